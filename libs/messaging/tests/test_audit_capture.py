"""The audit trail's change capture reads the rows a statement writes off the statement itself:
compiling it again (its execution's compiled form is cached) would cost more CPU than running it."""

from datetime import UTC, datetime
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.sql.compiler import SQLCompiler

from brightline.messaging.audit import _joined, _mask, _rule, _statement_rows

metadata = sa.MetaData()
orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("status", sa.String),
    sa.Column("details", sa.JSON),
    sa.Column("at", sa.DateTime(timezone=True)),
)
AT = datetime(2026, 12, 1, tzinfo=UTC)


def rows_of(statement):
    return _statement_rows(statement, orders, None, None)


def test_the_values_of_a_statement_are_read_without_compiling_it(monkeypatch):
    def no_compiling(*args, **kwargs):
        raise AssertionError("the statement was compiled")

    monkeypatch.setattr(SQLCompiler, "__init__", no_compiling)
    upsert = insert(orders).values(id="o-1", status="new", details={"crew": "c-1"}, at=AT)
    assert rows_of(upsert.on_conflict_do_update(index_elements=["id"], set_={"status": "new"})) == [
        {"id": "o-1", "status": "new", "details": {"crew": "c-1"}, "at": AT}
    ]
    assert rows_of(orders.update().where(orders.c.id == "o-1").values(status="done")) == [
        {"status": "done"}
    ]


def test_what_the_statement_binds_is_what_compiling_it_gave():
    statements = [
        orders.insert().values(id="o-1", status=sa.bindparam("status", "set")),
        orders.insert().values({orders.c.id: "o-2", orders.c.at: sa.func.now()}),
        orders.insert().values(id=sa.bindparam("named", "o-3")),  # not a column's name
        orders.insert().values(id=sa.bindparam("id", callable_=lambda: "o-4")),
    ]
    for statement in statements:
        compiled = statement.compile().params
        assert rows_of(statement) == [{k: v for k, v in compiled.items() if k in orders.c}]


def test_a_statement_with_its_own_values_is_read_for_them_not_for_its_parameters():
    """The parameters a unit of work's last statement is executed with fill the binds of the
    outbox and audit rows riding on it: they are not rows of the statement's table."""
    riding = {"riding_outbox_data": {"phone": "13900139000"}, "riding_outbox_key": "t-1"}
    upsert = insert(orders).values(id="o-1", status=sa.bindparam("status"))
    assert _statement_rows(upsert, orders, {**riding, "status": "new"}, None) == [
        {"id": "o-1", "status": "new"}
    ]
    # A statement without VALUES of its own writes its parameters, the riding rows' aside.
    assert _statement_rows(orders.insert(), orders, {**riding, "id": "o-2"}, None) == [
        {"id": "o-2"}
    ]


def test_an_update_built_once_is_joined_to_its_rows_before_once():
    """The capture of an UPDATE joins it to a sub-select of its rows before: building that join
    costs more CPU than the statement's round trip, so a statement executed with parameters
    (built once, as a hot path's are) keeps its join; one with values of its own gets a new one."""
    built_once = (
        orders.update()
        .where(orders.c.id == sa.bindparam("order_id"))
        .values(status=sa.bindparam("new_status"))
    )

    def execution(statement, parameters):
        return SimpleNamespace(statement=statement, parameters=parameters)

    first = _joined(
        execution(built_once, {"order_id": "o-1", "new_status": "a"}),
        orders,
        built_once.whereclause,
    )
    again = _joined(
        execution(built_once, {"order_id": "o-2", "new_status": "b"}),
        orders,
        built_once.whereclause,
    )
    assert again is first
    sql = str(first.compile(dialect=postgresql.dialect()))
    assert "FROM (SELECT" in sql and "FOR UPDATE OF orders) AS audit_before" in sql
    assert "audit_before.id AS audit_before_id" in sql

    def own_values(order_id):
        return orders.update().where(orders.c.id == order_id).values(status="done")

    one, two = (own_values(o) for o in ("o-1", "o-2"))
    assert _joined(execution(one, {}), orders, one.whereclause) is not _joined(
        execution(two, {}), orders, two.whereclause
    )


def test_a_captured_row_is_masked_by_rules_decided_once_per_key():
    """Every captured row asks how each of its columns is masked: the answer is kept per key."""
    row = {
        "crew_pin": "2468",
        "phone": "13912340000",
        "contact_phone": "13912340000",
        "caller_name": "王五",
        "unit_name": "抢修一班",
        "address": "幸福路1号",
        "details": {"reporter_name": "李四", "api_key": None, "area_name": "测试片区"},
        "status": "assigned",
    }
    masked = _mask(row)
    assert masked == {
        "crew_pin": "***",
        "phone": "139****0000",
        "contact_phone": "139****0000",
        "caller_name": "王*",
        "unit_name": "抢修一班",
        "address": "幸****",
        "details": {"reporter_name": "李*", "api_key": None, "area_name": "测试片区"},
        "status": "assigned",
    }
    decided = _rule.cache_info().misses
    assert _mask(row) == masked
    assert _rule.cache_info().misses == decided
