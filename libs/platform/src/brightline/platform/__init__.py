"""brightline.platform — what every service stands on: settings, database, logging, errors,
auth, health and metrics, and the local Kafka/PostgreSQL the project starts itself."""
