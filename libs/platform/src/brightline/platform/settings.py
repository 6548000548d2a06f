"""The settings base every service's one settings class extends.

Infrastructure variables are shared by name (DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS, ...);
a service's own knobs carry its prefix (INTAKE_..., DISPATCH_...).
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_AUTH_SECRET = "brightline-dev-secret-change-me-0123456789"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore")

    service_name: str
    database_name: str
    database_url: str | None = Field(
        None,
        validation_alias="DATABASE_URL",
        description="Server URL (any database on it); unset = the embedded PostgreSQL of the project",
    )
    db_pool_size: int = Field(10, validation_alias="DB_POOL_SIZE")
    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS"
    )
    kafka_topic_prefix: str = Field("", validation_alias="KAFKA_TOPIC_PREFIX")
    kafka_partitions: int = Field(
        12,
        validation_alias="KAFKA_PARTITIONS",
        description="Partitions of each topic this service creates: the most consumers of one "
        "group that can share a topic (existing topics are left as they are)",
    )
    consumer_batch_size: int = Field(
        50,
        validation_alias="CONSUMER_BATCH_SIZE",
        description="Records of a partition applied in one transaction (1 = one per record)",
    )
    outbox_relay_shards: int = Field(
        4,
        validation_alias="OUTBOX_RELAY_SHARDS",
        description="Outbox shards (by key hash); relays of one database publish shards in "
        "parallel, one relay per shard at a time. Every replica must use the same number.",
    )
    auth_secret: SecretStr = Field(
        SecretStr(DEV_AUTH_SECRET), validation_alias="BRIGHTLINE_AUTH_SECRET"
    )
    integration_clients: str = Field(
        '[{"client_id": "demo-integration", "secret_sha256": '
        '"093f7e6ca5e6fc75261951051e5e328a57592c001f56d889bcb7d360f2829a55", "scopes": ["*"]}]',
        validation_alias="BRIGHTLINE_INTEGRATION_CLIENTS",
        description="JSON list of OAuth2 clients: client_id, secret_sha256, scopes (service names or *). "
        "The default is the demo client of make run (secret demo-integration-secret).",
    )
    integration_rate_limit: str = Field("500/second", validation_alias="INTEGRATION_RATE_LIMIT")
    business_timezone: str = Field("Asia/Shanghai", validation_alias="BRIGHTLINE_TIMEZONE")
    log_level: str = Field("INFO", validation_alias="LOG_LEVEL")
    log_json: bool = Field(True, validation_alias="LOG_JSON")
    migrate_on_start: bool = Field(True, validation_alias="MIGRATE_ON_START")
    consumers_enabled: bool = Field(True, validation_alias="CONSUMERS_ENABLED")
