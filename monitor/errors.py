"""Errors the monitor's web layer turns into answers."""


class BrokerUnavailable(Exception):
    """Kafka did not answer in time; pages show it, the API answers 503."""


class ReplayError(Exception):
    """A dead letter that cannot be replayed (unknown, already replayed, no source topic)."""
