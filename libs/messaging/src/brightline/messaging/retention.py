"""Retention of the messaging tables: a scheduled job every service runs, windows as settings.

What goes, and why its window is what it is (docs/retention.md says the same for operators):

- outbox rows already **published** (never an unpublished one: the relay still owes it to
  the broker). After publication the row is only a copy of a Kafka record; the audit trail
  (brightline.messaging.audit) is the long-lived record of the change. Default 30 days.
- inbox rows: the consumer's memory that an event id was applied. It must outlive every
  chance of a redelivery of that event, i.e. the topic's own retention (`retention.ms`) plus
  one log segment (Kafka deletes whole segments, so a record lives at most `retention.ms +
  segment.ms` past its append), plus a day of grace. `RetentionSettings` refuses a shorter
  inbox window, and the services set that retention on every topic they create (see
  `topic_configs`), so a redelivery after the inbox window cannot happen: the record is gone
  from the broker before its inbox row is. Default: topics 7 days, segments 1 day, inbox 30.
- idempotency keys of HTTP commands: a client retries within minutes; a week covers any
  retry queue. Default 7 days.

Rows are deleted in small batches, each its own short transaction (`FOR UPDATE SKIP LOCKED`,
so two replicas running the job at once share the work and never block the writers), with
Prometheus metrics of rows deleted and kept. Personal data inside those rows (the outbox's
payloads, the idempotency keys' stored responses) is gone with them.

Business records (tickets, cases, work orders, callbacks, the audit trail itself) are not
touched here: they follow the archive rule in docs/retention.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from prometheus_client import Counter, Gauge
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

DAY_MS = 86_400_000

ROWS_DELETED = Counter(
    "brightline_retention_rows_deleted",
    "Rows the retention job deleted because they were older than their window",
    ["service", "table"],
)
ROWS_KEPT = Gauge(
    "brightline_retention_rows_kept",
    "Rows left in the table after the retention job's last run",
    ["service", "table"],
)
LAST_RUN = Gauge(
    "brightline_retention_last_run_timestamp_seconds",
    "Unix time the retention job last finished",
    ["service"],
)


class RetentionSettings(BaseSettings):
    """Windows in days; every one can be set per service through the environment."""

    model_config = SettingsConfigDict(env_prefix="RETENTION_", extra="ignore")

    outbox_days: float = Field(30, gt=0, description="published outbox rows kept this long")
    inbox_days: float = Field(30, gt=0, description="inbox rows (applied event ids) kept")
    idempotency_days: float = Field(7, gt=0, description="HTTP idempotency keys kept")
    topic_retention_days: float = Field(7, gt=0, description="Kafka retention.ms of topics")
    topic_segment_days: float = Field(1, gt=0, description="Kafka segment.ms of topics")
    dead_letter_retention_days: float = Field(
        30, gt=0, description="retention of the .dlt topics (operators inspect and replay)"
    )
    grace_days: float = Field(1, ge=0, description="margin of the inbox over the topics")
    interval_seconds: float = Field(3600, gt=0, description="time between two runs")
    batch_size: int = Field(500, ge=1, le=100_000, description="rows per delete transaction")
    enabled: bool = True

    @model_validator(mode="after")
    def inbox_outlives_redeliveries(self) -> RetentionSettings:
        redeliverable = self.topic_retention_days + self.topic_segment_days + self.grace_days
        if self.inbox_days <= redeliverable:
            raise ValueError(
                f"RETENTION_INBOX_DAYS={self.inbox_days:g} must exceed the topics' retention "
                f"plus one segment plus grace ({redeliverable:g} days): a redelivered event "
                "whose inbox row was already deleted would be applied twice"
            )
        return self

    def topic_configs(self, *, dead_letter: bool) -> dict[str, str]:
        """The topic-level configs every service sets on the topics it creates."""
        days = self.dead_letter_retention_days if dead_letter else self.topic_retention_days
        return {
            "cleanup.policy": "delete",
            "retention.ms": str(int(days * DAY_MS)),
            "segment.ms": str(int(self.topic_segment_days * DAY_MS)),
        }


@dataclass(frozen=True)
class Rule:
    table: str
    column: str  # the row's age is measured on this column
    window: Callable[[RetentionSettings], float]  # days


RULES = (
    # published_at IS NULL never compares < cutoff: an unpublished row is never deleted.
    Rule("outbox", "published_at", lambda s: s.outbox_days),
    Rule("inbox", "processed_at", lambda s: s.inbox_days),
    Rule("idempotency_keys", "created_at", lambda s: s.idempotency_days),
)


class RetentionJob:
    """`await job.run_once()` deletes what is past its window; `start()` runs it every
    `interval_seconds` until `stop()`."""

    def __init__(
        self,
        engine: AsyncEngine,
        service: str,
        settings: RetentionSettings | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.service = service
        self.settings = settings or RetentionSettings()
        self.clock = clock
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> dict[str, int]:
        """Delete every row older than its window, batch by batch. Returns rows deleted."""
        now = self.clock()
        deleted: dict[str, int] = {}
        for rule in RULES:
            cutoff = now - timedelta(days=rule.window(self.settings))
            deleted[rule.table] = await self._purge(rule, cutoff)
            async with self.engine.connect() as conn:
                kept = await conn.scalar(sa.text(f"SELECT count(*) FROM {rule.table}"))
            ROWS_KEPT.labels(self.service, rule.table).set(kept)
        LAST_RUN.labels(self.service).set(time.time())
        if any(deleted.values()):
            log.info("retention deleted %s", deleted)
        return deleted

    async def _purge(self, rule: Rule, cutoff: datetime) -> int:
        # ctid: one statement for any primary key; SKIP LOCKED: never wait on a live writer.
        statement = sa.text(
            f"DELETE FROM {rule.table} WHERE ctid = ANY(ARRAY("
            f"SELECT ctid FROM {rule.table} WHERE {rule.column} < :cutoff "
            "LIMIT :batch FOR UPDATE SKIP LOCKED))"
        )
        total = 0
        while True:
            async with self.engine.begin() as conn:
                result = await conn.execute(
                    statement, {"cutoff": cutoff, "batch": self.settings.batch_size}
                )
            total += result.rowcount
            ROWS_DELETED.labels(self.service, rule.table).inc(result.rowcount)
            if result.rowcount < self.settings.batch_size:
                return total
            await asyncio.sleep(0)  # let the service's own work in between batches

    def start(self) -> None:
        if self.settings.enabled and self._task is None:
            self._task = asyncio.create_task(self._loop(), name=f"retention-{self.service}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a failed run is retried at the next interval
                log.exception("retention run failed")
            await asyncio.sleep(self.settings.interval_seconds)


def topic_configs_for(
    names: list[str], settings: RetentionSettings | None = None
) -> Mapping[str, dict[str, str]]:
    """Topic-level configs keyed by (prefixed) topic name: dead-letter twins keep longer."""
    settings = settings or RetentionSettings()
    return {n: settings.topic_configs(dead_letter=n.endswith(".dlt")) for n in names}


def create_retention_indexes_v1() -> None:
    """Called from each service's lifecycle migration: the job's predicates read an index, not
    the whole table. Frozen like create_messaging_tables_v1."""
    from alembic import op

    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_outbox_published_at ON outbox (published_at) "
        "WHERE published_at IS NOT NULL"
    )
    op.execute("CREATE INDEX IF NOT EXISTS ix_inbox_processed_at ON inbox (processed_at)")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_idempotency_keys_created_at ON idempotency_keys (created_at)"
    )


def drop_retention_indexes_v1() -> None:
    from alembic import op

    for name in (
        "ix_outbox_published_at",
        "ix_inbox_processed_at",
        "ix_idempotency_keys_created_at",
    ):
        op.execute(f"DROP INDEX IF EXISTS {name}")
