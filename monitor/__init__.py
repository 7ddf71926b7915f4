"""The stream monitor: topics, consumer lag, service health, dead letters, activity, impact."""
