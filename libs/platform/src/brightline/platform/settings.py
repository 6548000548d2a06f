"""The settings base every service's one settings class extends.

Infrastructure variables are shared by name (DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS, ...);
a service's own knobs carry its prefix (INTAKE_..., DISPATCH_...).

Nothing secret has a default outside development: unless BRIGHTLINE_ENV=development (set by
`make run` and the test suite), a service refuses to start without an identity provider
(BRIGHTLINE_OIDC_ISSUER), with a database URL whose password is missing, short or a known
placeholder, or with any other secret of its settings in that state (see `secret_problems`).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from brightline.contracts.sealed import (
    DEV_PERSONAL_DATA_KEY,
    PersonalDataSeal,
    SealFormat,
    fernet_key_problems,
)

DEVELOPMENT = "development"
MIN_SECRET_LENGTH = 16
# Least time between a consumer's fetch requests (brightline.messaging.kafka.pace_fetches): a
# stream waits at most this much per hop, which no one at a desk or on a truck can notice, for a
# fetch and a transaction per batch instead of per event or two. The SLA monitor takes less.
CONSUMER_FETCH_PACE_MS = 50.0
# Least time between two outbox relay rounds of a stream of commits (brightline.messaging.relay):
# one round, one statement and one produce request publish what the commits of that time wrote.
OUTBOX_RELAY_PACE_MS = 20.0
# Values that are clearly not secrets: examples from README files, compose defaults, manifests.
PLACEHOLDER = re.compile(
    r"change[-_ ]?me|changeme|placeholder|example|secret|password|dev[-_]|demo|default|"
    r"postgres$|admin$|^x+$|^0+$|12345",
    re.IGNORECASE,
)


def weak_secret(value: str | None) -> str | None:
    """Why a secret value is unfit outside development, or None when it is fit."""
    if not value:
        return "missing"
    if len(value) < MIN_SECRET_LENGTH:
        return f"shorter than {MIN_SECRET_LENGTH} characters"
    if PLACEHOLDER.search(value):
        return "a known placeholder"
    return None


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore")

    service_name: str
    database_name: str
    environment: str = Field(
        "production",
        validation_alias="BRIGHTLINE_ENV",
        description="`development` (make run, tests) allows the embedded database and dev "
        "secrets; anything else is production and refuses missing or placeholder secrets",
    )
    database_url: str | None = Field(
        None,
        validation_alias="DATABASE_URL",
        description="Server URL (any database on it); unset = the embedded PostgreSQL of the project",
    )
    db_pool_size: int = Field(
        20,
        validation_alias="DB_POOL_SIZE",
        description="Database connections a process may hold, each kept once opened "
        "(brightline.platform.db.create_engine)",
    )
    http_max_inflight: int | None = Field(
        None,
        validation_alias="HTTP_MAX_INFLIGHT",
        description="Requests at work at once; the others queue (brightline.platform.admission). "
        "Unset = the database pool's connections (DB_POOL_SIZE) less 4 "
        "kept for the consumer, the relay, the audit sealer and retention",
    )
    http_max_queued: int = Field(
        2048,
        validation_alias="HTTP_MAX_QUEUED",
        description="Requests waiting for their turn; one more is refused at once with 503 + "
        "Retry-After",
    )
    http_queue_seconds: float = Field(
        10.0,
        validation_alias="HTTP_QUEUE_SECONDS",
        description="The longest a request waits for its turn before a 503 + Retry-After: "
        "well within the pool's 30 s timeout and a client's usual 30 s, leaving the work time "
        "to finish when the CPU is scarce",
    )
    http_keep_alive_seconds: int = Field(
        75,
        validation_alias="HTTP_KEEP_ALIVE_SECONDS",
        description="How long an idle keep-alive connection stays open. Longer than clients' "
        "and proxies' own idle timeouts (aiohttp 15 s, load balancers 60 s), so the client "
        "always closes first: a server closing first races the client's next request on that "
        "connection, which then fails with a reset",
    )
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
    kafka_create_topics: bool = Field(
        True,
        validation_alias="KAFKA_CREATE_TOPICS",
        description="Create missing topics at start; false where the broker's ACLs let each "
        "service see only its own topics and the topic job creates them as the admin",
    )
    consumer_batch_size: int = Field(
        50,
        validation_alias="CONSUMER_BATCH_SIZE",
        description="Records of a fetch (all its partitions) applied in one transaction "
        "(1 = one per record)",
    )
    consumer_fetch_pace_ms: float = Field(
        CONSUMER_FETCH_PACE_MS,
        ge=0,
        validation_alias="CONSUMER_FETCH_PACE_MS",
        description="Least time between a consumer's fetch requests: under a stream one fetch "
        "brings what arrived meanwhile (fewer fetches and transactions per record, at most this "
        "much more latency per hop); an idle consumer still long-polls. 0 = fetch at once",
    )
    outbox_relay_pace_ms: float = Field(
        OUTBOX_RELAY_PACE_MS,
        ge=0,
        validation_alias="OUTBOX_RELAY_PACE_MS",
        description="Least time between the relay rounds of a stream of commits: one round "
        "(a statement, a produce request) publishes what the commits of that time wrote; the "
        "first round after a quiet spell and a backlog are not held back. 0 = a round per commit",
    )
    outbox_relay_shards: int = Field(
        4,
        validation_alias="OUTBOX_RELAY_SHARDS",
        description="Outbox shards (by key hash); relays of one database share them out (each "
        "relay holds its shards' leases), one relay per shard at a time. Every replica must use "
        "the same number.",
    )
    oidc_issuer: str | None = Field(
        None,
        validation_alias="BRIGHTLINE_OIDC_ISSUER",
        description="The OpenID Connect issuer whose tokens this service accepts (Keycloak: "
        "https://<host>/realms/brightline); its discovery document names the JWKS",
    )
    oidc_discovery_url: str | None = Field(
        None,
        validation_alias="BRIGHTLINE_OIDC_DISCOVERY_URL",
        description="Where this service reaches the issuer when its public address is not "
        "reachable from inside the network (docker-compose); unset = the issuer itself",
    )
    oidc_audience: str | None = Field(
        None,
        validation_alias="BRIGHTLINE_OIDC_AUDIENCE",
        description="The `aud` a token must carry to reach this service; unset = brightline-<service>",
    )
    integration_rate_limit: str = Field("500/second", validation_alias="INTEGRATION_RATE_LIMIT")
    max_body_bytes: int = Field(
        1024 * 1024,
        validation_alias="MAX_BODY_BYTES",
        description="Larger request bodies get 413 before anything reads them",
    )
    body_limits: dict[str, int] = Field(
        default_factory=dict,
        description="Routes that take larger bodies: path regex -> bytes (photo uploads)",
    )
    content_security_policy: str | None = Field(
        None, description="Content-Security-Policy of the pages this service serves"
    )
    business_timezone: str = Field("Asia/Shanghai", validation_alias="BRIGHTLINE_TIMEZONE")
    metrics_port: int = Field(
        9464,
        validation_alias="METRICS_PORT",
        description="Internal port of /metrics outside development (the public port serves it "
        "only in development); reachable by the cluster's Prometheus alone",
    )
    log_level: str = Field("INFO", validation_alias="LOG_LEVEL")
    log_json: bool = Field(True, validation_alias="LOG_JSON")
    migrate_on_start: bool = Field(True, validation_alias="MIGRATE_ON_START")
    consumers_enabled: bool = Field(True, validation_alias="CONSUMERS_ENABLED")

    @property
    def is_development(self) -> bool:
        return self.environment == DEVELOPMENT

    @property
    def audience(self) -> str:
        return self.oidc_audience or f"brightline-{self.service_name}"

    def secret_problems(self) -> list[str]:
        """Every secret setting unfit for production, named (a subclass adds its own)."""
        problems = []
        if not self.oidc_issuer:
            problems.append("BRIGHTLINE_OIDC_ISSUER is missing")
        elif urlsplit(self.oidc_issuer).scheme != "https" and urlsplit(
            self.oidc_issuer
        ).hostname not in ("localhost", "127.0.0.1"):
            problems.append("BRIGHTLINE_OIDC_ISSUER must be an https URL")
        if not self.database_url:
            problems.append("DATABASE_URL is missing (the embedded database is for development)")
        else:
            parts = urlsplit(self.database_url)
            password = parts.password
            socket = "host=/" in (parts.query or "")
            if not socket and (why := weak_secret(password)):
                problems.append(f"the password in DATABASE_URL is {why}")
        return problems

    @model_validator(mode="after")
    def _refuse_weak_secrets_outside_development(self) -> ServiceSettings:
        if not self.is_development and (problems := self.secret_problems()):
            raise ValueError(
                f"{self.service_name} refuses to start in {self.environment} mode: "
                + "; ".join(problems)
                + " (BRIGHTLINE_ENV=development allows development defaults)"
            )
        return self


class PersonalDataSettings(ServiceSettings):
    """A service entitled to the personal data events carry sealed (docs/personal-data.md):
    only these services' settings hold the key, so the others cannot open it."""

    personal_data_key: SecretStr = Field(
        SecretStr(DEV_PERSONAL_DATA_KEY),
        validation_alias="BRIGHTLINE_PERSONAL_DATA_KEY",
        description="Fernet keys (url-safe base64 of 32 bytes), comma-separated, newest first, "
        "sealing and opening personal data in events; the default is development's only",
    )

    seal_format: SealFormat = Field(
        "aes-gcm",
        validation_alias="BRIGHTLINE_SEAL_FORMAT",
        description="How this service seals personal data: aes-gcm (v2), or fernet while a "
        "service of a release before 2026-12-05 (which opens Fernet tokens alone) still runs; "
        "both open either",
    )

    def personal_data_seal(self) -> PersonalDataSeal:
        return PersonalDataSeal(self.personal_data_key.get_secret_value(), seal_as=self.seal_format)

    def secret_problems(self) -> list[str]:
        return super().secret_problems() + fernet_key_problems(
            "BRIGHTLINE_PERSONAL_DATA_KEY",
            self.personal_data_key.get_secret_value(),
            DEV_PERSONAL_DATA_KEY,
        )


def secret_value(value: SecretStr | str | None) -> str | None:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return value
