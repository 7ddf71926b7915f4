"""Development tooling: real local Kafka and PostgreSQL servers for tests and `make run`."""
