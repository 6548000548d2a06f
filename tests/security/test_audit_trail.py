"""Every state change is auditable by supervisors: each one writes a row of the service's
hash-chained audit trail in the change's own transaction (chained by the sealer about a second
later), and GET /audit/events (on every
service, from brightline.messaging.audit) lists them, filtered and paged. Reads of confidential report
fields are audited by casework (GET /audit/confidential-reads, its own tests)."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from brightline.casework.adapters.orm import departments
from brightline.contracts import Event
from brightline.messaging import audit
from brightline.messaging.audit import audit_seals, audit_trail, audit_unsealed, verify
from brightline.platform.auth import Role
from brightline.platform.testing import (
    bearer,
    eventually,
    generic_plan,
    longest_stretch,
    route_rules,
    running,
    service_app,
    service_names,
    turns_of_other_work,
)

pytestmark = pytest.mark.integration

AGENT = bearer(Role.AGENT, subject="agent-7", staff_no="1007", name="王五")
SUPERVISOR = bearer(Role.SUPERVISOR, subject="supervisor-1")
RECORDED = "brightline.intake.ticket.recorded.v2"


async def insert_unsealed(engine, actor: str, rows: list[dict]) -> None:
    """Rows as a scheduled job's unit of work writes them, unsealed, straight into the trail."""
    async with engine.begin() as conn:
        await conn.execute(
            sa.insert(audit_trail),
            [
                {
                    "at": datetime.now(UTC),
                    "kind": "job",
                    "actor": actor,
                    "changes": [{"table": "t", "op": "insert", "count": 1}],
                    **row,
                }
                for row in rows
            ],
        )


def repair(n: int) -> dict:
    return {
        "ticket_type": "repair",
        "description": f"审计测试停电{n}",
        "caller_name": "李四",
        "phone": f"1391234{n:04d}",
        "address": f"幸福小区{n}栋",
        "fault_scope": "own_home",
        "fault_started_at": (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
    }


def test_every_service_serves_the_supervisor_only_audit_trail():
    for service in service_names():
        rules = {(m, p): roles for m, p, roles in route_rules(service_app(service))}
        assert rules.get(("GET", "/audit/events")) == {Role.SUPERVISOR}, service


async def test_a_recorded_ticket_is_in_the_audit_trail_for_supervisors_only(infra_env, db_name):
    app = service_app("intake", **infra_env, database_name=db_name("intake"))
    async with running(app) as client:
        before = datetime.now(UTC) - timedelta(seconds=1)
        ids = []
        for n in range(3):
            created = await client.post(
                "/tickets", json=repair(n), headers={**AGENT, "Idempotency-Key": f"a-{n}"}
            )
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])

        found = await client.get("/audit/events", params={"ticket_id": ids[0]}, headers=SUPERVISOR)
        assert found.status_code == 200, found.text
        [row] = [r for r in found.json() if r["action"] == "POST /tickets"]
        assert row["kind"] == "request" and row["actor"] == "agent-7"
        assert row["subject"] == ids[0] and row["ticket_id"] == ids[0]
        assert [e["type"] for e in row["detail"]["events"]] == [RECORDED]
        [inserted] = [c for c in row["changes"] if c["table"] == "tickets"]
        assert inserted["op"] == "insert" and inserted["after"][0]["type"] == "repair"
        assert "13912340000" not in found.text  # personal data masked in the trail
        assert all(r["ticket_id"] == ids[0] for r in found.json())

        refused = await client.get("/audit/events", params={"ticket_id": ids[0]}, headers=AGENT)
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert (await client.get("/audit/events")).status_code == 401

        # Filtered by type and time, paged with `after`: the three tickets in order, one per page.
        pages, after = [], None
        while True:
            params = {"event_type": RECORDED, "since": before.isoformat(), "limit": 1}
            if after is not None:
                params["after"] = after
            page = (await client.get("/audit/events", params=params, headers=SUPERVISOR)).json()
            if not page:
                break
            pages.append(page)
            after = page[-1]["seq"]
        assert [p[0]["subject"] for p in pages] == ids
        assert all(len(p) == 1 for p in pages)

        future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        assert (
            await client.get("/audit/events", params={"since": future}, headers=SUPERVISOR)
        ).json() == []
        assert (
            await client.get("/audit/events", params={"subject": ids[1]}, headers=SUPERVISOR)
        ).json()[0]["subject"] == ids[1]

        naive = await client.get(
            "/audit/events", params={"since": "2026-01-01T00:00:00"}, headers=SUPERVISOR
        )
        assert naive.status_code == 422
        assert naive.headers["content-type"] == "application/problem+json"


INTEGRATION = bearer(Role.INTEGRATION, subject="crm-cost")


def _handled(n: int) -> Event:
    return Event(
        type=f"test.department.touched.v{n}",
        source="/test",
        subject=f"dep-e{n}",
        data={"ticket_id": f"t-e{n}"},
    )


async def test_the_audit_row_rides_the_last_round_trip_and_the_sealer_chains_it(infra_env, db_name):
    """No lock and no read on the commit path: an UPDATE by primary key returns its rows
    before and after, and the audit row is the unit of work's one other statement. The row is
    listed unsealed until the sealer chains it; the trigger allows that change and no other."""
    name = db_name("casework")
    app = service_app("casework", **infra_env, database_name=name)
    async with running(app) as client:
        for dep in ("dep-cost", "dep-e1", "dep-e2"):
            put = await client.put(
                f"/departments/{dep}",
                json={"name": "客服部", "case_types": ["complaint"]},
                headers=INTEGRATION,
            )
            assert put.status_code == 200, put.text
        runtime = app.state.runtime
        statements: list[tuple[object, str]] = []

        def note(conn, cursor, statement, *args) -> None:
            statements.append((conn, statement))

        async def sealed():
            return (await verify(runtime.engine)).unsealed == 0

        await eventually(sealed)  # woken by the commits, the sealer chained their rows
        sa.event.listen(runtime.engine.sync_engine, "before_cursor_execute", note)
        await asyncio.sleep(2.5)
        # ... and, with nothing to seal, it asks the database nothing.
        assert [s for _, s in statements if "audit_trail" in s] == []
        await runtime.sealer.stop()  # sealed below, by hand, once the row was seen unsealed
        try:
            async with runtime.unit_of_work() as uow:
                mine = (await uow.session.connection()).sync_connection
                statements.clear()
                updated = await uow.session.execute(
                    departments.update()
                    .where(departments.c.id == "dep-cost")
                    .values(active=False, updated_by="crm-cost")
                )
                assert updated.rowcount == 1  # the caller's result still counts its rows
                await uow.commit()
        finally:
            sa.event.remove(runtime.engine.sync_engine, "before_cursor_execute", note)
        assert [s.split()[0] for c, s in statements if c is mine] == ["UPDATE", "INSERT"]

        [row] = (
            await client.get(
                "/audit/events", params={"kind": "job", "limit": 500}, headers=SUPERVISOR
            )
        ).json()
        assert (row["hash"], row["chain_seq"]) == (None, None)  # listed before it is sealed
        [update] = row["changes"]
        assert (update["op"], update["count"]) == ("update", 1)
        assert (update["before"][0]["active"], update["after"][0]["active"]) == (True, False)
        assert update["before"][0]["id"] == update["after"][0]["id"] == "dep-cost"
        assert (await verify(runtime.engine)).unsealed == 1

        # One unit of work applying two events: a row per event, each with its own change.
        async with runtime.unit_of_work() as uow:
            for n in (1, 2):
                uow.causation = _handled(n)
                await uow.session.execute(
                    departments.update()
                    .where(departments.c.id == f"dep-e{n}")
                    .values(active=False, updated_by=f"e{n}")
                )
            await uow.commit()
        rows = (
            await client.get(
                "/audit/events", params={"kind": "event", "limit": 500}, headers=SUPERVISOR
            )
        ).json()
        assert [(r["action"], r["subject"], r["ticket_id"]) for r in rows] == [
            (f"test.department.touched.v{n}", f"dep-e{n}", f"t-e{n}") for n in (1, 2)
        ]
        assert [r["changes"][0]["after"][0]["id"] for r in rows] == ["dep-e1", "dep-e2"]

        assert await runtime.sealer.seal() == 3
        result = await verify(runtime.engine)
        assert (result.intact, result.unsealed) == (True, 0)
        sealed = (
            await client.get("/audit/events", params={"subject": "dep-e2"}, headers=SUPERVISOR)
        ).json()
        assert sealed[-1]["hash"] and sealed[-1]["chain_seq"] == result.rows

        # The triggers: content never changes, a row or a seal is never deleted, a seal never
        # changes.
        async with runtime.unit_of_work() as uow:  # a row left unsealed, for the refusals
            await uow.session.execute(
                departments.update().where(departments.c.id == "dep-cost").values(active=True)
            )
            await uow.commit()
        unsealed = audit_trail.c.seq.in_(sa.select(audit_unsealed.c.seq))
        refused = [
            sa.update(audit_trail).where(unsealed).values(actor="someone-else"),
            sa.update(audit_trail).where(~unsealed).values(actor="someone-else"),
            sa.delete(audit_trail).where(unsealed),
            sa.delete(audit_trail).where(~unsealed),
            sa.update(audit_seals).values(hash="f" * 64),
            sa.delete(audit_seals),
            sa.text("TRUNCATE audit_trail"),
            sa.text("TRUNCATE audit_seals"),
        ]
        for statement in refused:
            async with runtime.engine.connect() as conn:
                with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                    await conn.execute(statement)
        assert await runtime.sealer.seal() == 1
        assert (await verify(runtime.engine)).intact


async def test_a_sealing_round_gives_its_process_turns_between_chunks_of_rows(
    infra_env, db_name, monkeypatch
):
    """The sealer runs in its service's event loop: a round over a backlog chains a chunk of
    rows (their digests taken by PostgreSQL), then lets the requests and events of the process
    go on, and seals the rows chunk by chunk, each chunk one statement (before, a second's rows
    of a busy service, or a backlog, were hashed in one stretch: the process answered nothing
    meanwhile). Counted, never timed: the rows chained between two turns of a task that only
    yields."""
    app = service_app("casework", **infra_env, database_name=db_name("casework"))
    async with running(app):
        runtime = app.state.runtime
        await runtime.sealer.stop()  # sealed below, by hand
        backlog = 2 * audit.SEAL_CHUNK + 7
        await insert_unsealed(
            runtime.engine,
            "backlog",
            [
                {"action": f"test.backlog.{n}", "detail": {"n": n, "share": 0.5}}
                for n in range(backlog)
            ],
        )
        hashed = 0
        original = audit.chain_hash

        def counted(prev: str, digest: bytes, link: bytes) -> str:
            nonlocal hashed
            hashed += 1
            return original(prev, digest, link)

        monkeypatch.setattr(audit, "chain_hash", counted)
        async with turns_of_other_work(lambda: hashed) as turns:
            assert await runtime.sealer.seal() >= backlog
        assert hashed >= backlog
        assert longest_stretch(turns) <= audit.SEAL_CHUNK
        result = await verify(runtime.engine)
        assert (result.intact, result.unsealed) == (True, 0)


async def test_a_sealing_round_reads_only_the_queued_rows_however_long_the_trail(
    infra_env, db_name
):
    """The sealer's statement is prepared once and, from its sixth round, runs on PostgreSQL's
    generic plan (planned for any limit). Planned as a join of the queue with the trail, that
    plan read and hashed the whole trail for every chunk whenever the queue's statistics were
    near the trail's size: a young database (the bench: 14,000 rows hashed for 300 queued, a
    sixth of PostgreSQL's CPU) or a backlog caught up before the queue is analyzed again. Now
    the queue is taken and each digest read by primary key, whatever the estimates: the
    generic plan never scans the trail."""
    app = service_app("casework", **infra_env, database_name=db_name("casework"))
    async with running(app):
        runtime = app.state.runtime
        await runtime.sealer.stop()  # sealed below, by hand
        history = 3 * audit.SEAL_CHUNK
        await insert_unsealed(
            runtime.engine,
            "history",
            [{"action": f"test.history.{n}", "detail": {"n": n}} for n in range(history)],
        )
        async with runtime.engine.begin() as conn:  # the estimates of a busy round
            await conn.execute(sa.text("ANALYZE audit_trail, audit_unsealed"))
        async with runtime.engine.begin() as conn:
            scans = await generic_plan(
                conn, str(audit._UNSEALED.compile(dialect=runtime.engine.dialect))
            )
        assert ("Index Scan", "audit_trail") in scans
        assert not [
            node
            for node, relation in scans
            if relation == "audit_trail" and node not in ("Index Scan", "Index Only Scan")
        ]
        assert await runtime.sealer.seal() == history
        result = await verify(runtime.engine)
        assert (result.intact, result.rows, result.unsealed) == (True, history, 0)


async def test_a_queued_row_deleted_behind_the_triggers_is_left_out_and_the_rest_sealed(
    infra_env, db_name
):
    """Each queued row's digest is read by its own lookup: one whose row was deleted with the
    triggers off (only a hand at the database can) finds none, and a digest a hand queued may
    be none. The sealer takes such a row off the queue, logs it, and chains the others: the
    round never stops on it, and verify counts a row it left unsealed."""
    app = service_app("casework", **infra_env, database_name=db_name("casework"))
    async with running(app):
        runtime = app.state.runtime
        await runtime.sealer.stop()  # sealed below, by hand
        await insert_unsealed(  # rows of no digest of their writer's (before v5, by hand)
            runtime.engine,
            "gone",
            [{"action": f"test.gone.{n}", "detail": {"n": n}} for n in range(3)],
        )
        async with runtime.sessions() as session, session.begin():
            for n in (3, 4):  # rows with their writer's digest
                await audit.append(session, kind="job", actor="gone", action=f"test.gone.{n}")
        async with runtime.engine.begin() as conn:
            await conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            await conn.execute(
                sa.text("DELETE FROM audit_trail WHERE action IN ('test.gone.1', 'test.gone.4')")
            )
            await conn.execute(  # and a queued digest that is none: the row stays unsealed
                sa.text(
                    "UPDATE audit_unsealed SET digest = 'not a digest' WHERE seq = "
                    "(SELECT seq FROM audit_trail WHERE action = 'test.gone.3')"
                )
            )
        assert await runtime.sealer.seal() == 5  # taken off the queue, all five
        result = await verify(runtime.engine)
        assert (result.intact, result.rows, result.unsealed) == (True, 2, 1)


WRITTEN = {  # text a JSON column keeps as written and JSONB would not: order, spacing, forms
    "changes": [{"table": "t", "op": "update", "after": {"z": 1, "a": [0.1, 1e-07, 1e20]}}],
    "detail": {"名": '链 \n"引"', "at": datetime(2026, 12, 5, tzinfo=UTC), "n": -0.0},
}


async def test_the_writer_digests_each_row_and_the_sealer_chains_that_digest(infra_env, db_name):
    """Each row carries its writer's digest of its content (v5), queued with it: the sealer
    chains it without reading the row (PostgreSQL's digest of every queued row, its JSONB
    written out as text, was about a seventh of the services' database CPU). The JSON columns
    keep the text the writer hashed, by every way a row is written (one bound row, a batch as
    one JSON array, a bare insert), so verify takes the same digest from the row as it lies.
    The chain is fixed when the row is written: an edit of a row before it is sealed (the
    triggers off) is found too, as the sealer no longer hashes what it finds."""
    from brightline.messaging.unit_of_work import _insert

    app = service_app("casework", **infra_env, database_name=db_name("casework"))
    async with running(app):
        runtime = app.state.runtime
        await runtime.sealer.stop()  # sealed below, by hand
        rows = [
            audit.audit_row(kind="job", actor="writer", action=f"test.writer.{n}", **WRITTEN)
            for n in range(4)
        ]
        async with runtime.engine.begin() as conn:
            for batch in ([rows[0]], rows[1:3]):  # one bound row; a batch as a JSON array
                values: dict = {}
                insert, _ = _insert(audit_trail, batch, values)
                await conn.execute(insert, values)
        async with runtime.sessions() as session, session.begin():
            await audit.append(
                session, kind="job", actor="writer", action="test.writer.3", **WRITTEN
            )
        async with runtime.engine.connect() as conn:
            stored = (
                await conn.execute(
                    sa.select(
                        audit_trail.c.action,
                        audit_trail.c.digest,
                        sa.cast(audit_trail.c.changes, sa.Text).label("changes"),
                        sa.cast(audit_trail.c.detail, sa.Text).label("detail"),
                        audit_unsealed.c.digest.label("queued"),
                    )
                    .join(audit_unsealed, audit_unsealed.c.seq == audit_trail.c.seq)
                    .order_by(audit_trail.c.seq)
                )
            ).all()
        assert [row.action for row in stored] == [f"test.writer.{n}" for n in range(4)]
        for row, written in zip(stored, rows, strict=True):
            assert (row.changes, row.detail) == (written["changes"], written["detail"])
            assert row.digest == row.queued
        assert [row.digest for row in stored[:3]] == [written["digest"] for written in rows[:3]]
        assert await runtime.sealer.seal() == 4
        result = await verify(runtime.engine)
        assert (result.intact, result.rows, result.unsealed) == (True, 4, 0)

        # Edited before its seal, with the triggers off: the seal holds the writer's digest.
        await insert_unsealed(runtime.engine, "late", [{"action": "test.late", "detail": {}}])
        async with runtime.sessions() as session, session.begin():
            await audit.append(session, kind="job", actor="writer", action="test.edited")
        async with runtime.engine.begin() as conn:
            await conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            edited = await conn.scalar(
                sa.update(audit_trail)
                .where(audit_trail.c.action == "test.edited")
                .values(actor="someone else")
                .returning(audit_trail.c.seq)
            )
        assert await runtime.sealer.seal() == 2
        result = await verify(runtime.engine)
        assert (result.intact, result.broken_at, result.reason) == (
            False,
            edited,
            "row content changed",
        )


async def test_a_chain_sealed_before_v3_verifies_on_with_the_rows_v3_seals_after_it(
    infra_env, db_name
):
    """The sealer now chains the digest PostgreSQL takes of each row (CONTENT_DIGEST): a trail
    whose first rows an earlier sealer chained over their content read into the service
    (row_hash) verifies whole, and an edit of such a row, or of a row v3 sealed, is found."""
    app = service_app("casework", **infra_env, database_name=db_name("casework"))
    async with running(app):
        runtime = app.state.runtime
        await runtime.sealer.stop()  # sealed below, by hand

        async def add(n: int) -> None:
            await insert_unsealed(
                runtime.engine,
                "chain",
                [
                    {
                        "action": f"test.chain.{n}.{i}",
                        "ticket_id": f"t-{n}",
                        "detail": {"n": n, "share": 0.5, "名": "链"},
                    }
                    for i in range(3)
                ],
            )

        await add(1)
        async with runtime.engine.begin() as conn:  # sealed as sealers before v3 did
            rows = (
                (await conn.execute(sa.select(audit_trail).order_by(audit_trail.c.seq)))
                .mappings()
                .all()
            )
            prev = audit.GENESIS
            for chain_seq, row in enumerate(rows, 1):
                link = audit.row_hash(prev, row)
                await conn.execute(
                    sa.insert(audit_seals).values(
                        seq=row["seq"], chain_seq=chain_seq, prev_hash=prev, hash=link
                    )
                )
                prev = link
            await conn.execute(sa.delete(audit_unsealed))
        await add(2)
        assert await runtime.sealer.seal() == 3
        result = await verify(runtime.engine)
        assert (result.intact, result.rows, result.unsealed) == (True, 6, 0)
        async with runtime.engine.connect() as conn:
            v3 = (
                await conn.execute(
                    sa.select(audit_seals.c.seq, audit_seals.c.prev_hash, audit_seals.c.hash).where(
                        audit_seals.c.chain_seq == 4
                    )
                )
            ).one()
        assert v3.prev_hash == prev  # chained on to the last row sealed before v3
        assert v3.hash != audit.row_hash(prev, rows[0])

        for tampered in (rows[1]["seq"], v3.seq):
            async with runtime.engine.begin() as conn:
                await conn.execute(sa.text("ALTER TABLE audit_trail DISABLE TRIGGER USER"))
                await conn.execute(
                    sa.update(audit_trail)
                    .where(audit_trail.c.seq == tampered)
                    .values(detail={"n": 1, "share": 0.5, "名": "改"})
                )
                await conn.execute(sa.text("ALTER TABLE audit_trail ENABLE TRIGGER USER"))
            result = await verify(runtime.engine)
            assert (result.intact, result.broken_at, result.reason) == (
                False,
                tampered,
                "row content changed",
            )
            async with runtime.engine.begin() as conn:  # put back, to find the next one
                await conn.execute(sa.text("ALTER TABLE audit_trail DISABLE TRIGGER USER"))
                original = (
                    rows[1]["detail"]
                    if tampered == rows[1]["seq"]
                    else {
                        "n": 2,
                        "share": 0.5,
                        "名": "链",
                    }
                )
                await conn.execute(
                    sa.update(audit_trail)
                    .where(audit_trail.c.seq == tampered)
                    .values(detail=original)
                )
                await conn.execute(sa.text("ALTER TABLE audit_trail ENABLE TRIGGER USER"))
            assert (await verify(runtime.engine)).intact


async def test_seals_move_apart_from_the_rows_and_back_with_the_chain_intact(
    postgres_server, db_name
):
    """Migration v4 (casework 0005, the same function in every service): a trail sealed in its
    rows (v2's columns) gets its seals copied to audit_seals and its unsealed rows queued; the
    chain verifies on, and the sealer seals the queue onto it. Downgraded, the seals go back
    into the rows; upgraded again, the chain is still whole."""
    from alembic import command

    from brightline.platform.db import create_engine, database_url, ensure_database
    from brightline.platform.local import project_root
    from brightline.platform.migrations import alembic_config

    database = db_name("casework")
    await ensure_database(postgres_server, database)
    url = database_url(postgres_server, database)
    config = alembic_config(project_root() / "services" / "casework", url)

    async def migrate(revision: str, down: bool = False) -> None:
        await asyncio.to_thread(command.downgrade if down else command.upgrade, config, revision)

    await migrate("0004")  # seals in the rows (v2's trigger)
    engine = create_engine(url, pool_size=2)
    try:
        await insert_unsealed(
            engine, "v2", [{"action": f"test.v2.{n}", "detail": {"n": n}} for n in range(5)]
        )
        async with engine.begin() as conn:  # the first three sealed as v3's sealer did, in place
            digests = (
                await conn.execute(
                    sa.select(audit_trail.c.seq, audit.CONTENT_DIGEST)
                    .order_by(audit_trail.c.seq)
                    .limit(3)
                )
            ).all()
            prev = audit.GENESIS
            for chain_seq, (seq, digest) in enumerate(digests, 1):
                link = audit.chain_hash(prev, digest, audit.V3_LINK)
                await conn.execute(
                    sa.text(
                        "UPDATE audit_trail SET chain_seq = :c, prev_hash = :p, hash = :h "
                        "WHERE seq = :s"
                    ),
                    {"c": chain_seq, "p": prev, "h": link, "s": seq},
                )
                prev = link

        await migrate("head")
        result = await verify(engine)
        assert (result.intact, result.rows, result.unsealed) == (True, 3, 2)
        assert await audit.AuditSealer(engine).seal() == 2
        result = await verify(engine)
        assert (result.intact, result.rows, result.unsealed) == (True, 5, 0)

        await migrate("0004", down=True)
        async with engine.connect() as conn:
            in_rows = (
                await conn.execute(sa.text("SELECT chain_seq FROM audit_trail ORDER BY chain_seq"))
            ).scalars()
            assert list(in_rows) == [1, 2, 3, 4, 5]
        await insert_unsealed(engine, "v2 again", [{"action": "test.v2.later", "detail": {}}])

        await migrate("head")
        result = await verify(engine)
        assert (result.intact, result.rows, result.unsealed) == (True, 5, 1)
        assert await audit.AuditSealer(engine).seal() == 1
        assert (await verify(engine)).intact
    finally:
        await engine.dispose()
