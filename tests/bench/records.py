"""Scenario 6: records' search and timeline over a big history (issue 20, point 4).

The read model (records' `tickets` and `timeline` tables, migration 0002) gets `history` closed
tickets (two years back) and `open` open ones (last three days), generated inside PostgreSQL by
INSERT ... SELECT generate_series (the app is bypassed; the gram arrays are computed by the same
SQL function the projection uses), plus six timeline entries for every open ticket and for one
historical ticket in twenty. Names, phones and addresses look like a Tianjin hotline's: common
surnames weighted by frequency, mobile prefixes, district + road + house number + housing estate
+ building/unit/room, repeat callers. The tables' indexes (read from the catalogue, so exactly
the migrations') are dropped for the load and built afterwards, then VACUUM ANALYZE. Sizes:
--records-history and --records-open (issue: 10,000,000 + 500,000; --quick: 200,000 + 10,000).
Generating the full size takes most of an hour, so the data is kept between runs: a database
named after the generator (a hash of its SQL and of the read model's columns and indexes) and the sizes stays
in the bench's PostgreSQL (the stack drops only its bench_<service> databases) and is reused when
it matches; records is restarted on it for this scenario and back on its own database after.
--records-regenerate forces a new one.

Then, as a supervisor: search by 工单号 (exact), by phone (written "+86 1xx-xxxx-xxxx" so
normalisation runs), by an address substring (road + house number, or estate + building + unit), and
the timeline of one ticket. Measured twice: through records' own query code
(TicketRepository.search / .get + .timeline, one connection, back to back, p50/p95/p99), and
through HTTP (4 concurrent, load generator in its own process, p95). The plan of each query at
this scale goes to records-explain.txt. Targets from the issue: 20 / 20 / 200 / 50 ms (p95).
Printed, never asserted.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
import time
import urllib.parse
from zoneinfo import ZoneInfo

import httpx
import sqlalchemy as sa
from common import NotAvailable, Result, http_ok, pct, run_loadgen_async
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from stack import Stack

from brightline.confidentiality import Viewer, load_confidentiality
from brightline.platform.auth import Role
from brightline.platform.local.paths import free_port
from brightline.platform.local.progress import wait_ready_by_progress
from brightline.platform.testing import ServiceProcess, bearer
from brightline.records.adapters.repository import SearchQuery, TicketRepository
from brightline.records.domain.model import normalise_phone

# Ordered by frequency: the generator draws the first ones far more often (u**3 skew).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红飞鑫波斌宇浩凯健俊帆帅旭宁龙欣佳晨"
    "瑞博文嘉怡思雨涵梓轩然诺雅婷琳建国志红梅淑珍海燕春秋云峰亮辉"
)
DISTRICTS = [
    "和平区", "河东区", "河西区", "南开区", "河北区", "红桥区", "东丽区", "西青区",
    "津南区", "北辰区", "武清区", "宝坻区", "滨海新区", "宁河区", "静海区", "蓟州区",
]  # fmt: skip
ROADS = [
    "南京路", "卫津路", "解放北路", "黄河道", "友谊路", "复康路", "鞍山道", "西康路", "营口道",
    "成都道", "重庆道", "大沽南路", "南马路", "北马路", "中山路", "红旗路", "密云路", "咸阳路",
    "长江道", "白堤路", "水上公园西路", "宾水道", "围堤道", "紫金山路", "珠江道", "津塘路",
    "成林道", "十一经路", "六纬路", "金钟河大街", "昆仑路", "育梁道", "芥园道", "丁字沽一号路",
    "北辰道", "京津路", "津霸公路", "杨柳青大街", "辛口镇大道", "梅江道", "微山路", "洞庭路",
    "第三大街", "泰达大街", "新港路", "塘沽解放路", "河北路", "迎宾大道", "雍阳西道", "泉州路",
    "南环路", "北环路", "东风路", "建设路", "人民路", "幸福路", "光明路", "和谐路", "振兴路",
    "胜利路", "团结路", "红星路", "朝阳路", "向阳路", "文化路", "工农路", "青年路", "学府路",
    "民主道", "自由道", "桂林路", "烟台道", "保定道", "唐山道", "承德道", "沙市道", "辽宁路",
    "吉林路", "贵州路", "云南路",
]  # fmt: skip
ESTATES = [
    "幸福里", "阳光花园", "金色家园", "水岸名苑", "碧水园", "华苑小区", "梅江南", "万科城",
    "龙潭路小区", "体院北", "天塔公寓", "王顶堤", "鹤园北里", "长江里", "嘉陵道小区", "时代奥城",
    "融创中心", "星耀五洲", "南开大学宿舍", "大学城公寓", "富力津门湖", "中海城", "恒大绿洲",
    "保利玫瑰湾", "新城家园", "康乐里", "安居里", "和苑", "欣苑", "春华里", "秋实园", "丽水苑",
    "滨湖园", "金泰里", "宜君北里", "风湖里", "园荫里", "丽江里", "雅安里", "翠堤南苑", "海景花园",
    "东方名居", "格调春天", "云琅", "蓝水假期", "华厦津典", "水晶城", "汇锦名邸", "锦江园",
    "红磡花园", "天鹅湖", "观景苑", "清华园", "工人新村", "铁路新村", "电力小区", "供电宿舍",
    "机床厂宿舍", "纺织新村", "朝阳里",
]  # fmt: skip
MOBILE = [
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151",
    "152", "153", "155", "156", "157", "158", "159", "166", "173", "176", "177", "178",
    "180", "181", "182", "183", "185", "186", "187", "188", "189", "198", "199",
]  # fmt: skip
CALLERS = 3_000_000  # distinct callers: a number calls about three times over the history
KINDS = [
    "call.ringing",
    "ticket.recorded",
    "work_order.created",
    "work_order.on_site",
    "work_order.returned",
    "callback.outcome",
]


def _arr(values) -> str:
    return "ARRAY[" + ",".join(f"'{v}'" for v in values) + "]::text[]"


def _chars(text: str) -> str:
    return _arr(list(text))


# g: the row's number; h, k: two multiplicative hashes of it (Knuth's constants, mod 2^32) from
# which every field is drawn, so rows differ without random() (the timeline statement must
# recompute a ticket's recorded_at). Rows arrive in time order, as a read model's do.
# $1 prefix of ids and numbers, $2..$3 the range, $4 the kind's total, $5 spread (s) back from
# $6 (the load's "now"); $7 open? (tickets) or one in how many gets a timeline (timeline).
_ROWS = """
SELECT g, h, k, $6::timestamptz - make_interval(secs => $5 * (1 - (g + 0.5) / $4::float8)) AS at
FROM (SELECT g, (g * 2654435761) % 4294967296 AS h,
             (g * 2246822519 + 3266489917) % 4294967296 AS k
      FROM generate_series($2::bigint, $3::bigint) AS g) r
"""

FILL_TICKETS = f"""
INSERT INTO tickets (ticket_id, ticket_no, ticket_type, recorded_at, first_ask_owner, owner,
                     owner_at, owner_event, status, status_at, status_event, unit_id, unit_at,
                     unit_event, call_id, caller_name, phone, phone_norm, address, area_code,
                     anonymous, name_grams, address_grams, has_breached)
SELECT $1 || g, $1 || lpad(g::text, 10, '0'),
       ({_arr(["repair"] * 6 + ["consultation"] * 2 + ["service_request", "complaint"])})
         [1 + h % 10], at,
       'agent-' || (k % 2000), 'agent-' || (k % 2000), at, 'bench',
       CASE WHEN $7 THEN 'dispatched' ELSE 'called_back' END, at, 'bench',
       'unit-' || (h / 7 % 300), at, 'bench', 'call-' || $1 || g, nm, ph, ph, ad,
       'A' || (h / 11 % 500), false, records_grams(nm), records_grams(ad), h % 50 = 0
FROM (
  SELECT g, h, k, at,
         ({_arr(MOBILE)})[1 + c % {len(MOBILE)}]
           || lpad(((c * 48271) % 100000000)::text, 8, '0') AS ph,
         ({_chars(SURNAMES)})[1 + floor({len(SURNAMES)} * power((k % 1000) / 1000.0, 3))::int]
           || ({_chars(GIVEN)})[1 + k / 1000 % {len(GIVEN)}]
           || CASE WHEN k % 3 = 0 THEN ''
                   ELSE ({_chars(GIVEN)})[1 + k / 97 % {len(GIVEN)}] END AS nm,
         '天津市' || ({_arr(DISTRICTS)})[1 + h / 3 % {len(DISTRICTS)}]
           || ({_arr(ROADS)})[1 + h / 53 % {len(ROADS)}] || (1 + h / 4253 % 399) || '号'
           || ({_arr(ESTATES)})[1 + k / 13 % {len(ESTATES)}] || (1 + k / 787 % 30) || '号楼'
           || (1 + k / 23633 % 6) || '单元' || (1 + k / 141793 % 24)
           || lpad((1 + k / 3402631 % 4)::text, 2, '0') || '室' AS ad
  FROM (SELECT *, h / 17 % {CALLERS} AS c FROM ({_ROWS}) r0) r1
) s
"""

# Six entries per ticket of the range whose g % $7 = 0, ten minutes apart; the first is the
# call's (no ticket yet).
FILL_TIMELINE = f"""
INSERT INTO timeline (entry_id, event_type, kind, occurred_at, aggregate_id, source, ticket_id,
                      call_id, data)
SELECT $1 || g || ':' || n, 'brightline.bench.v1', ({_arr(KINDS)})[n],
       at + make_interval(mins => 10 * n), $1 || g, '/bench',
       CASE WHEN n = 1 THEN NULL ELSE $1 || g END,
       CASE WHEN n = 1 THEN 'call-' || $1 || g END,
       jsonb_build_object('ticket_id', $1 || g, 'step', n)
FROM ({_ROWS}) r
CROSS JOIN generate_series(1, 6) AS n
WHERE g % $7 = 0
"""

TABLES = ("tickets", "timeline")

# Every index of the two tables, as the migrations made them: (table, index, constraint?, DDL).
INDEXES = """
SELECT t.relname, c.relname, con.conname IS NOT NULL,
       CASE WHEN con.conname IS NULL THEN pg_get_indexdef(i.indexrelid)
            ELSE format('ALTER TABLE %I ADD CONSTRAINT %I %s', t.relname, con.conname,
                        pg_get_constraintdef(con.oid)) END
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = t.oid
WHERE t.relname = ANY($1::text[]) AND t.relnamespace = 'public'::regnamespace
"""


# Written last by a generation, so a database without it (an interrupted one) is made again.
KEPT = "bench_generated"
KEPT_PREFIX = "bench_records_g"
# Tables of the messaging machinery, shared by every service: not the read model.
MACHINERY = ("alembic_version", "audit_trail", "inbox", "outbox", "idempotency_keys")
READ_MODEL_SHAPE = """
SELECT string_agg(line, E'\\n' ORDER BY line) FROM (
  SELECT format('%s.%s %s %s', table_name, column_name, data_type, is_nullable) AS line
  FROM information_schema.columns
  WHERE table_schema = 'public' AND table_name <> ALL($1::text[])
  UNION ALL
  SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> ALL($1::text[])
) shape
"""


async def kept_name(stack: Stack, history: int, open_: int) -> str:
    """The kept database's name: what generates it (the SQL here and the read model's shape —
    its tables' columns and indexes, which are rebuilt — not the schema revision: a migration of
    the machinery, such as the audit trail's, leaves the generated data as good as it was) and
    the sizes."""
    conn = await stack.connect(stack.db["records"])
    try:
        shape = await conn.fetchval(READ_MODEL_SHAPE, [*MACHINERY, KEPT])
    finally:
        await conn.close()
    digest = hashlib.sha256(f"{shape}\n{FILL_TICKETS}\n{FILL_TIMELINE}".encode()).hexdigest()
    return f"{KEPT_PREFIX}{digest[:10]}_{history}_{open_}"


async def generated(stack: Stack, database: str) -> dict | None:
    """The generation's record in a kept database, or None (absent or unfinished)."""
    conn = await stack.connect()
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            return None
    finally:
        await conn.close()
    conn = await stack.connect(database)
    try:
        if not await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", KEPT):
            return None
        row = await conn.fetchrow(f"SELECT phases, tickets, entries, at FROM {KEPT}")
    finally:
        await conn.close()
    if row is None:
        return None
    return {**json.loads(row["phases"]), **{k: row[k] for k in ("tickets", "entries", "at")}}


async def drop_kept(stack: Stack) -> None:
    """Only one kept read model at a time: the full size is several GB."""
    conn = await stack.connect()
    try:
        for (name,) in await conn.fetch(
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", KEPT_PREFIX
        ):
            await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def serve_records(stack: Stack, database: str) -> None:
    """Restart records on another database (it creates and migrates it on start)."""
    old = stack.procs["records"]
    old.stop()
    proc = ServiceProcess(
        "records", free_port(), {**old.env, "RECORDS_DATABASE_NAME": database}, stack.log_dir
    )
    proc.start()
    stack.procs["records"] = proc
    if stack.cpu_groups is not None:  # weighed as its predecessor was
        stack.cpu_groups.share("records", proc.process.pid, stack.cpu_shares["records"])
    wait_ready_by_progress(proc, stall=300)  # WARNING-level logs: a start may log nothing


async def fill(stack: Stack, database: str, history: int, open_: int) -> tuple[dict, int, int]:
    conn = await stack.connect(database)
    phases: dict = {}
    t0 = time.time()
    try:
        await conn.execute("SET maintenance_work_mem = '1GB'")
        await conn.execute("SET synchronous_commit = off")  # the load's own commits only
        indexes = await conn.fetch(INDEXES, list(TABLES))
        for table, name, constraint, _ in indexes:
            await conn.execute(
                f"ALTER TABLE {table} DROP CONSTRAINT {name}"
                if constraint
                else f"DROP INDEX {name}"
            )
        for table in TABLES:  # autovacuum would read the tables mid-load; VACUUM runs after
            await conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
        now = await conn.fetchval("SELECT now()")
        chunk = 1_000_000
        for label, total, is_open, secs, every in (
            ("H", history, False, 2 * 365 * 86400, 20),
            ("O", open_, True, 3 * 86400, 1),
        ):
            prefix = f"B{label}-"
            for start in range(0, total, chunk):
                end = min(total, start + chunk) - 1
                args = (prefix, start, end, total, float(secs), now)
                await conn.execute(FILL_TICKETS, *args, is_open, timeout=7200)
                await conn.execute(FILL_TIMELINE, *args, every, timeout=7200)
                print(
                    f"    records: {label} {end + 1:,}/{total:,} rows ({time.time() - t0:.0f}s)",
                    flush=True,
                )
        phases["load"] = time.time() - t0
        t1 = time.time()
        for _table, name, _, ddl in sorted(indexes, key=lambda r: not r[2]):  # keys first
            t = time.time()
            await conn.execute(ddl, timeout=7200)
            phases[f"index {name}"] = time.time() - t
            print(f"    records: {name} built in {time.time() - t:.0f}s", flush=True)
        phases["indexes"] = time.time() - t1
        t1 = time.time()
        for table in TABLES:
            await conn.execute(f"ALTER TABLE {table} RESET (autovacuum_enabled)")
            await conn.execute(f"VACUUM (ANALYZE) {table}", timeout=7200)
        phases["vacuum analyze"] = time.time() - t1
        tickets = await conn.fetchval("SELECT count(*) FROM tickets")
        entries = await conn.fetchval("SELECT count(*) FROM timeline")
        phases["size"] = await conn.fetchval(
            "SELECT pg_size_pretty(pg_database_size(current_database()))"
        )
        phases["total"] = time.time() - t0
        await conn.execute(
            f"CREATE TABLE {KEPT} AS SELECT $1::jsonb AS phases, $2::bigint AS tickets, "
            "$3::bigint AS entries, now() AS at",
            json.dumps(phases),
            tickets,
            entries,
        )
    finally:
        await conn.close()
    return phases, tickets, entries


async def samples(stack: Stack, database: str, history: int, open_: int, n: int) -> list:
    """n tickets picked at random (half open, half historical), read back by 工单号."""
    rng = random.Random(20)
    numbers = [
        f"BO-{rng.randrange(open_):010d}"
        if rng.random() < 0.5
        else f"BH-{rng.randrange(history):010d}"
        for _ in range(n)
    ]
    conn = await stack.connect(database)
    try:
        rows = await conn.fetch(
            "SELECT ticket_id, ticket_no, phone, address FROM tickets "
            "WHERE ticket_no = ANY($1::text[])",
            numbers,
        )
    finally:
        await conn.close()
    picked = list(rows)
    rng.shuffle(picked)
    return picked


def spelled(phone: str) -> str:
    """How an agent might type a mobile: +86 139-1234-5678."""
    return f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"


def fragment(address: str, i: int) -> str:
    """Road + house number ("卫津路128号") or estate + building + unit ("阳光花园7号楼3单元"),
    alternately."""
    road, estate = re.match(r"天津市.+?区(.+?\d+号)(.+?\d+号楼\d+单元)", address).groups()
    return road if i % 2 == 0 else estate


async def direct(stack: Stack, database: str, rows: list, n: int) -> tuple[dict, str]:
    """Each query n times through records' repository, as the routes call it; the EXPLAIN
    (ANALYZE, BUFFERS) of the first of each."""
    engine = create_async_engine(
        f"postgresql+asyncpg://postgres@/{database}?host={stack.pg_host}",
        pool_size=1,
    )
    captured: list = []

    @sa.event.listens_for(engine.sync_engine, "before_cursor_execute")
    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            captured.append((statement, parameters))

    rules = load_confidentiality()
    viewer = Viewer(subject="sup-bench", roles=frozenset({str(Role.SUPERVISOR)}))
    tz = ZoneInfo("Asia/Shanghai")

    async def search(query: SearchQuery):
        async with AsyncSession(engine) as session, session.begin():
            repo = TicketRepository(session, tz)
            found, _ = await repo.search(query, rules=rules, viewer=viewer, limit=50)
            return found

    async def one_timeline(ticket_id: str):
        async with AsyncSession(engine) as session, session.begin():
            repo = TicketRepository(session, tz)
            ticket = await repo.get(ticket_id)
            return await repo.timeline(ticket)

    queries = {
        "search by 工单号": lambda r, i: search(SearchQuery(ticket_no=r["ticket_no"])),
        "search by phone": lambda r, i: search(
            SearchQuery(phone=normalise_phone(spelled(r["phone"])))
        ),
        "search by address substring": lambda r, i: search(
            SearchQuery(address=fragment(r["address"], i))
        ),
        "timeline of one ticket": lambda r, i: one_timeline(r["ticket_id"]),
    }
    latencies: dict = {}
    explain: list[str] = []
    try:
        for name, call in queries.items():
            found = []
            for i in range(min(3, len(rows))):  # warm the connection and the plan's caches
                captured.clear()
                found.append(len(await call(rows[-1 - i], i)))
            async with engine.connect() as conn:
                raw = (await conn.get_raw_connection()).driver_connection
                for statement, params in captured[-4:]:
                    plan = await raw.fetch(
                        "EXPLAIN (ANALYZE, BUFFERS) " + statement, *(params or ())
                    )
                    explain.append(
                        f"--- {name} (rows found: {found})\n{statement.strip()}\n"
                        + "\n".join(r[0] for r in plan)
                    )
            taken = []
            for i in range(n):
                t = time.perf_counter()
                await call(rows[i % len(rows)], i)
                taken.append((time.perf_counter() - t) * 1000)
            latencies[name] = taken
    finally:
        await engine.dispose()
    return latencies, "\n\n".join(explain)


async def measure(stack: Stack, name: str, urls: list[str], headers: dict, n: int) -> dict:
    return await run_loadgen_async(
        {
            "mode": "closed",
            "concurrency": 4,
            "requests": n,
            "method": "GET",
            "urls": urls,
            "headers_list": [headers],
            "body_kind": "none",
            "timeout": 30,
        },
        stack.out_dir,
        f"records-{name}",
        timeout=900,
    )


TARGETS = {
    "search by 工单号": 20,
    "search by phone": 20,
    "search by address substring": 200,
    "timeline of one ticket": 50,
}


async def run(stack: Stack, scale, figures: dict) -> list[Result]:
    if "records" not in stack.procs:
        raise NotAvailable("the records service is not part of this checkout")
    history = scale.extra.get("records_history") or (200_000 if scale.quick else 10_000_000)
    open_ = scale.extra.get("records_open") or (10_000 if scale.quick else 500_000)
    database = await kept_name(stack, history, open_)
    kept = None if scale.extra.get("records_regenerate") else await generated(stack, database)
    if kept is None:
        await drop_kept(stack)
    await asyncio.to_thread(serve_records, stack, database)
    try:
        return await measure_on(stack, scale, figures, database, kept, history, open_)
    finally:
        await asyncio.to_thread(serve_records, stack, stack.db["records"])


async def measure_on(
    stack: Stack, scale, figures: dict, database: str, kept: dict | None, history: int, open_: int
) -> list[Result]:
    if kept is None:
        phases, tickets, entries = await fill(stack, database, history, open_)
        how = "generated"
    else:
        phases, tickets, entries = kept, kept["tickets"], kept["entries"]
        how = f"reused (generated {kept['at']:%Y-%m-%d %H:%M})"
    figures["records_fill"] = {**phases, "how": how}
    results = [
        Result(
            "records",
            f"read model {how.split()[0]}",
            tickets,
            "tickets",
            note=f"{how} in {database}: {history:,} history + {open_:,} open, {entries:,} "
            f"timeline entries, {phases['size']}; load {phases['load']:.0f}s, indexes "
            f"{phases['indexes']:.0f}s, vacuum analyze {phases['vacuum analyze']:.0f}s",
        )
    ]
    n = 1000 if not scale.quick else 200
    rows = await samples(stack, database, history, open_, n)
    latencies, explain = await direct(stack, database, rows, n)
    (stack.out_dir / "records-explain.txt").write_text(explain + "\n")
    for name, taken in latencies.items():
        results.append(
            Result(
                "records",
                f"{name} p95 (repository)",
                pct(taken, 95),
                "ms",
                f"<= {TARGETS[name]}",
                note=f"p50 {pct(taken, 50):.1f} ms, p99 {pct(taken, 99):.1f} ms, "
                f"max {max(taken):.1f} ms; {len(taken)} back to back, one connection",
            )
        )

    base = stack.url("records")
    sup = bearer(Role.SUPERVISOR, subject="sup-bench")
    q = urllib.parse.quote
    http_n = scale.queue_requests
    urls = {
        "search by 工单号": [f"{base}/tickets?ticket_no={q(r['ticket_no'])}" for r in rows],
        "search by phone": [f"{base}/tickets?phone={q(spelled(r['phone']))}" for r in rows],
        "search by address substring": [
            f"{base}/tickets?address={q(fragment(r['address'], i))}&limit=50"
            for i, r in enumerate(rows)
        ],
        "timeline of one ticket": [f"{base}/tickets/{q(r['ticket_id'])}/timeline" for r in rows],
    }
    async with httpx.AsyncClient(timeout=60) as client:
        for name, view_urls in urls.items():
            view_urls = view_urls[:http_n]
            target = f"<= {TARGETS[name]}"
            try:
                await http_ok(client, "GET", view_urls[0], headers=sup)
            except (NotAvailable, RuntimeError) as error:
                results.append(
                    Result("records", f"{name} p95 (HTTP)", None, "ms", target, str(error))
                )
                continue
            report = await measure(stack, name.split()[-1], view_urls, sup, len(view_urls))
            ok = sum(v for k, v in report["statuses"].items() if k.startswith("2"))
            lat = report["latencies_ms"]
            results.append(
                Result(
                    "records",
                    f"{name} p95 (HTTP)",
                    pct(lat, 95),
                    "ms",
                    target,
                    note=f"p50 {pct(lat, 50):.1f} ms, p99 {pct(lat, 99):.1f} ms; "
                    f"{ok}/{len(view_urls)} 2xx, 4 concurrent",
                )
            )
    return results


__all__ = ["NotAvailable", "run"]
