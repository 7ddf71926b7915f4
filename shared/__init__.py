"""What every Boucle service needs: settings, event contract, Kafka adapter, database."""
