"""The monitor's rules over plain data: no Flask, Kafka or database here."""
