"""Everything a service's lifespan starts and stops, in order: database (created and migrated),
topics, producer, outbox relay, consumer. Services only name their routes and topics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Annotated, NamedTuple

from fastapi import Depends, FastAPI, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from brightline.contracts import Event, Topic, all_topic_names
from brightline.messaging.audit import AuditSealer, AuditTrail
from brightline.messaging.bus import MessageBus
from brightline.messaging.consumer import EventConsumer, Route
from brightline.messaging.kafka import (
    contract_partitions,
    create_producer,
    ensure_topics,
    prefixed,
)
from brightline.messaging.relay import OutboxRelay
from brightline.messaging.retention import RetentionJob, RetentionSettings, topic_configs_for
from brightline.messaging.unit_of_work import UnitOfWork
from brightline.platform.db import (
    create_engine,
    database_url,
    ensure_database,
    server_url,
    session_factory,
)
from brightline.platform.logging import configure_logging
from brightline.platform.migrations import upgrade_async
from brightline.platform.settings import ServiceSettings
from brightline.platform.telemetry import instrument_engine

log = logging.getLogger(__name__)


class ServiceRuntime:
    def __init__(self, settings: ServiceSettings, engine: AsyncEngine, *, source: str) -> None:
        self.settings = settings
        self.engine = engine
        self.sessions = session_factory(engine)
        # Every unit of work on these sessions (routes, consumers, jobs) writes the audit trail;
        # the sealer chains its rows off the commit path.
        self.sealer = AuditSealer(engine)
        self.audit = AuditTrail(settings.service_name, wake=self.sealer.wake)
        self.sessions.configure(info={"audit": self.audit})
        self.source = source
        self.producer = create_producer(settings.kafka_bootstrap_servers, settings.service_name)
        self.relay = OutboxRelay(
            engine,
            self.producer,
            topic_prefix=settings.kafka_topic_prefix,
            service=settings.service_name,
            shards=settings.outbox_relay_shards,
            round_pace=settings.outbox_relay_pace_ms / 1000,
        )
        self.consumer: EventConsumer | None = None
        self.retention = RetentionJob(engine, settings.service_name, RetentionSettings())

    def unit_of_work(self, causation: Event | None = None) -> UnitOfWork:
        return UnitOfWork(
            self.sessions, source=self.source, after_commit=[self.relay.wake], causation=causation
        )

    def readiness_checks(self) -> dict[str, Callable[[], Awaitable[bool]]]:
        async def database() -> bool:
            async with self.engine.connect() as conn:
                return bool(await conn.scalar(text("SELECT 1")) == 1)

        async def producer() -> bool:
            return self.relay.running and bool(self.producer.client.cluster.brokers())

        checks: dict[str, Callable[[], Awaitable[bool]]] = {
            "database": database,
            "producer": producer,
        }
        if self.consumer is not None:
            consumer = self.consumer

            async def consumer_assigned() -> bool:
                return consumer.running and consumer.assigned

            checks["consumer"] = consumer_assigned
        return checks


@asynccontextmanager
async def service_runtime(
    settings: ServiceSettings,
    *,
    service_dir: Path,
    routes: Mapping[str, Route] | None = None,
    topics: Iterable[Topic] = (),
    fallback: Route | None = None,
) -> AsyncIterator[ServiceRuntime]:
    configure_logging(settings.service_name, level=settings.log_level, json=settings.log_json)
    server = await asyncio.to_thread(server_url, settings.database_url)
    await ensure_database(server, settings.database_name)
    url = database_url(server, settings.database_name)
    if settings.migrate_on_start:
        await upgrade_async(service_dir, url)
    engine = create_engine(url, pool_size=settings.db_pool_size)
    instrument_engine(engine)  # database spans under the request's or event's span
    runtime = ServiceRuntime(settings, engine, source=f"/brightline/{settings.service_name}")
    prefix = settings.kafka_topic_prefix
    if settings.kafka_create_topics:
        topic_names = [prefixed(prefix, name) for name in all_topic_names()]
        await ensure_topics(
            settings.kafka_bootstrap_servers,
            topic_names,
            partitions=settings.kafka_partitions,
            sizes=contract_partitions(prefix, settings.kafka_partitions),
            configs=topic_configs_for(topic_names, runtime.retention.settings),
        )
    await runtime.producer.start()
    runtime.relay.start()
    if routes and settings.consumers_enabled:
        runtime.consumer = EventConsumer(
            name=settings.service_name,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            topic_prefix=prefix,
            topics=topics,
            routes=routes,
            session_factory=runtime.sessions,
            dead_letter_producer=runtime.producer,
            source=runtime.source,
            after_commit=[runtime.relay.wake],
            batch_size=settings.consumer_batch_size,
            fallback=fallback,
            fetch_pace_seconds=settings.consumer_fetch_pace_ms / 1000,
        )
        await runtime.consumer.start()
    runtime.retention.start()
    runtime.sealer.start()
    log.info("%s started", settings.service_name)
    try:
        yield runtime
    finally:
        await runtime.sealer.stop()
        await runtime.retention.stop()
        if runtime.consumer:
            await runtime.consumer.stop()
        await runtime.relay.stop()
        await runtime.producer.stop()
        await engine.dispose()


def service_lifespan(
    settings: ServiceSettings,
    *,
    service_dir: Path,
    routes: Mapping[str, Route] | None = None,
    topics: Iterable[Topic] = (),
    fallback: Route | None = None,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The lifespan a service hands to create_service_app."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with service_runtime(
            settings, service_dir=service_dir, routes=routes, topics=topics, fallback=fallback
        ) as runtime:
            app.state.runtime = runtime
            app.state.readiness.update(runtime.readiness_checks())
            yield

    return lifespan


async def get_runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[ServiceRuntime, Depends(get_runtime)]


async def get_unit_of_work(request: Request) -> UnitOfWork:
    # The runtime read here, not depended on (RuntimeDep): one dependency fewer to resolve on
    # every request that writes.
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime.unit_of_work()


UnitOfWorkDep = Annotated[UnitOfWork, Depends(get_unit_of_work)]


async def get_bus(request: Request) -> MessageBus:
    """The service's message bus, which its create_app keeps in app.state.bus."""
    bus: MessageBus = request.app.state.bus
    return bus


BusDep = Annotated[MessageBus, Depends(get_bus)]


class Handling(NamedTuple):
    """A new unit of work and the bus that hands a command over in it, as one dependency of a
    route that needs both: FastAPI resolves every dependency anew on every request (its cache
    key, its scopes, its call), so a hot write path (POST /tickets) depends on one, not two."""

    uow: UnitOfWork
    bus: MessageBus


async def get_handling(request: Request) -> Handling:
    state = request.app.state
    return Handling(state.runtime.unit_of_work(), state.bus)


HandlingDep = Annotated[Handling, Depends(get_handling)]
