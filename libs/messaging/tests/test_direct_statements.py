"""Statements sent past the session (brightline.messaging.direct, issue 21) behave as the
session's own would: in the unit of work's transaction, committed or rolled back with it, a
deferred Idempotency-Key claim made before them, errors as SQLAlchemy raises them (a lost
connection invalidated, so the next unit of work gets a fresh one), audited writes refused.
On the real PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from brightline.messaging import UnitOfWork, direct, idempotency
from brightline.messaging.schema import idempotency_keys, outbox
from brightline.messaging.schema import metadata as messaging_metadata
from brightline.platform.db import (
    ROUND_TRIPS,
    count_round_trips,
    create_engine,
    database_unavailable,
    database_url,
    ensure_database,
    session_factory,
)

pytestmark = pytest.mark.integration

_metadata = sa.MetaData()
notes = sa.Table(
    "direct_notes",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("body", sa.JSON, nullable=False),
)
# Built once, as every statement sent past the session is.
ADD_NOTE = sa.select(sa.literal(1).label("one")).add_cte(
    notes.insert()
    .values(id=sa.bindparam("id"), body=sa.bindparam("body", type_=sa.JSON))
    .cte("added")
)
READ_NOTE = sa.select(notes.c.id, notes.c.body).where(notes.c.id == sa.bindparam("id"))
BACKEND = sa.select(sa.func.pg_backend_pid().label("pid"))


@pytest.fixture
async def engine(postgres_server, db_name):
    name = db_name("direct")
    await ensure_database(postgres_server, name)
    engine = create_engine(database_url(postgres_server, name), pool_size=2)
    async with engine.begin() as conn:
        await conn.run_sync(messaging_metadata.create_all)
        await conn.run_sync(_metadata.create_all)
    count_round_trips(engine)
    yield engine
    await engine.dispose()


def unit(engine) -> UnitOfWork:
    return UnitOfWork(session_factory(engine), source="/brightline/test")


async def notes_in(engine) -> dict[int, object]:
    async with engine.connect() as conn:
        return dict((await conn.execute(sa.select(notes.c.id, notes.c.body))).all())


async def test_a_direct_statement_is_part_of_its_unit_of_work(engine):
    before = ROUND_TRIPS["total"]
    async with unit(engine) as uow:
        await direct.execute(uow.session, ADD_NOTE, {"id": 1, "body": {"said": "电话"}})
        # Seen by the session's own statements in the same transaction.
        assert (await uow.session.execute(text("SELECT count(*) FROM direct_notes"))).scalar() == 1
        [row] = await direct.execute(uow.session, READ_NOTE, {"id": 1})
        assert (row.id, row.body) == (row[0], row[1]) == (1, {"said": "电话"})
        await uow.commit()
    assert ROUND_TRIPS["total"] - before == 5  # BEGIN, three statements, COMMIT
    async with unit(engine) as uow:
        await direct.execute(uow.session, ADD_NOTE, {"id": 2, "body": {}})
        # left without commit: rolled back
    assert await notes_in(engine) == {1: {"said": "电话"}}


async def test_a_unit_of_work_crosses_into_sqlalchemys_greenlets_only_for_io(engine, monkeypatch):
    """Its begin, its commit's bookkeeping and its close send nothing: only taking the
    connection goes through SQLAlchemy's asyncio bridge (a greenlet, ~9 µs and a frame stack's
    mmap); COMMIT is sent on the connection itself. Left without a commit, it rolls back."""
    from sqlalchemy.util import concurrency

    crossed: list[str] = []
    spawn = concurrency.greenlet_spawn

    async def counted(fn, *args, **kwargs):
        crossed.append(fn.__name__)
        return await spawn(fn, *args, **kwargs)

    for module in ("sqlalchemy.ext.asyncio.session", "sqlalchemy.ext.asyncio.engine"):
        monkeypatch.setattr(f"{module}.greenlet_spawn", counted)
    async with unit(engine) as uow:
        await direct.execute(uow.session, ADD_NOTE, {"id": 20, "body": {}})
        await uow.commit()
    assert crossed == ["connection"]
    crossed.clear()
    async with unit(engine) as uow:
        await direct.execute(uow.session, ADD_NOTE, {"id": 21, "body": {}})
    assert crossed == ["connection", "rollback"]
    assert await notes_in(engine) == {20: {}}


async def test_a_database_error_is_sqlalchemys_and_rolls_the_unit_back(engine):
    with pytest.raises(sa_exc.IntegrityError):
        async with unit(engine) as uow:
            await direct.execute(uow.session, ADD_NOTE, {"id": 3, "body": {}})
            await direct.execute(uow.session, ADD_NOTE, {"id": 3, "body": {}})
    assert await notes_in(engine) == {}


async def test_a_commit_refused_by_postgresql_is_sqlalchemys_error_and_leaves_nothing(engine):
    """COMMIT is sent on the connection itself (direct.commit): a constraint checked only then
    (deferred) fails it as SQLAlchemy's commit would fail, nothing of the unit is kept, and the
    pooled connection serves the next unit of work."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE TABLE direct_deferred (id int, CONSTRAINT direct_deferred_once UNIQUE (id)"
                " DEFERRABLE INITIALLY DEFERRED)"
            )
        )
    twice = sa.select(sa.literal(1)).add_cte(
        sa.text("INSERT INTO direct_deferred VALUES (7), (7)").columns().cte("twice")
    )
    with pytest.raises(sa_exc.IntegrityError, match="direct_deferred_once"):
        async with unit(engine) as uow:
            await direct.execute(uow.session, ADD_NOTE, {"id": 30, "body": {}})
            await direct.execute(uow.session, twice)
            await uow.commit()
    assert await notes_in(engine) == {}
    async with unit(engine) as uow:
        await direct.execute(uow.session, ADD_NOTE, {"id": 31, "body": {}})
        await uow.commit()
    assert await notes_in(engine) == {31: {}}


async def test_a_lost_connection_is_invalidated_and_the_next_unit_gets_a_fresh_one(engine):
    async with unit(engine) as uow:
        [row] = await direct.execute(uow.session, BACKEND)
        lost = row.pid
        await uow.commit()
    # The backend the pool holds goes away (terminated from a connection of another pool).
    admin = create_engine(engine.url.render_as_string(hide_password=False), pool_size=1)
    async with admin.begin() as conn:
        await conn.execute(sa.select(sa.func.pg_terminate_backend(lost)))
    await admin.dispose()
    with pytest.raises(sa_exc.DBAPIError) as raised:
        async with unit(engine) as uow:  # the pool's one connection: the lost one
            await direct.execute(uow.session, BACKEND)
    assert raised.value.connection_invalidated
    assert database_unavailable(raised.value)
    async with unit(engine) as uow:
        [row] = await direct.execute(uow.session, BACKEND)
        assert row.pid != lost
        await uow.commit()


async def test_a_deferred_claim_is_made_before_a_direct_statement(engine):
    async with unit(engine) as uow:
        idempotency.defer_claim(uow.session, "test", "key-1", "hash-1")
        await direct.execute(uow.session, ADD_NOTE, {"id": 4, "body": {}})
        await idempotency.remember(uow.session, "test", "key-1", "hash-1", 201, {"id": 4})
        await uow.commit()
    async with unit(engine) as uow:
        idempotency.defer_claim(uow.session, "test", "key-1", "hash-1")
        with pytest.raises(idempotency.Replayed):
            await direct.execute(uow.session, ADD_NOTE, {"id": 5, "body": {}})
    assert await notes_in(engine) == {4: {}}


def test_audited_writes_and_expanding_lists_are_refused(engine):
    dialect = engine.sync_engine.dialect
    with pytest.raises(TypeError, match="audited"):
        direct.compiled(notes.insert().values(id=1, body={}), dialect)
    with pytest.raises(TypeError, match="expanding"):
        direct.compiled(sa.select(notes.c.id).where(notes.c.id.in_([1, 2])), dialect)
    # The unaudited tables' writes are not.
    direct.compiled(outbox.delete().where(outbox.c.id == sa.bindparam("id")), dialect)
    direct.compiled(idempotency_keys.delete(), dialect)


async def test_the_engines_statement_events_hear_a_direct_statement(engine):
    """As a cursor's statement: the round-trip count, tests and exported spans listen there."""
    heard: list[tuple[str, object]] = []

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        heard.append(("before", statement))

    def after(conn, cursor, statement, parameters, context, executemany) -> None:
        heard.append(("after", cursor.rowcount))

    sa.event.listen(engine.sync_engine, "before_cursor_execute", before)
    sa.event.listen(engine.sync_engine, "after_cursor_execute", after)
    try:
        async with unit(engine) as uow:
            await direct.execute(uow.session, ADD_NOTE, {"id": 6, "body": {}})
            await uow.commit()
    finally:
        sa.event.remove(engine.sync_engine, "before_cursor_execute", before)
        sa.event.remove(engine.sync_engine, "after_cursor_execute", after)
    assert heard == [
        ("before", direct.compiled(ADD_NOTE, engine.sync_engine.dialect).sql),
        ("after", 1),
    ]
