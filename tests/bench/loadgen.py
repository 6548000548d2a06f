"""The HTTP load generator, run as its own process: `loadgen.py spec.json out.json`.

Modes: "closed" (N workers back to back for a duration or a request count) and "open" (a
schedule of [seconds, rate] phases; requests are started on time whatever the answers do,
up to max_inflight in flight; a request that could not start on time is counted late).
aiohttp client, keep-alive, uvloop. Not httpx: its async connection pool tops out near 200
req/s here at 32-64 connections against a bare endpoint that aiohttp drives at ~5,000 req/s,
so with httpx the generator, not the system, would be what the figures measure.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import aiohttp

try:
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None

PHONES = "139%08d"
AREAS = 20  # grid.py's service areas: ticket i lies in BENCH-(i mod 20)


def body_for(kind: str, i: int, run: str) -> dict | None:
    if kind == "repair":  # an ordinary single-household fault, unique address: no linking
        return {
            "ticket_type": "repair",
            "description": "家中插座无电, 请派人检修",
            "caller_name": "王五",
            "phone": PHONES % (i % 10**8),
            "address": f"{run} 测试路{i}号",
            "area_code": f"BENCH-{i % AREAS:02d}",
            "fault_scope": "own_home",
            "fault_started_at": (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
        }
    if kind == "nopower":  # storm: a "no power" call; its meter sits under a transformer
        return {
            "ticket_type": "repair",
            "description": "整栋楼停电了",
            "caller_name": "赵六",
            "phone": PHONES % (i % 10**8),
            "address": f"{run} 风暴小区{i}栋",
            "meter_no": f"{run}-M{i}",
            # The area of the meter's transformer (storm.py: 200 meters per transformer).
            "area_code": f"BENCH-{i // 200 % AREAS:02d}",
            "fault_scope": "building",
            "fault_started_at": (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
        }
    if kind == "bare":
        return {"n": i, "text": "hello"}
    return None


async def main(spec: dict) -> dict:
    connections = spec.get("max_inflight", spec.get("concurrency", 64))
    latencies: list[float] = []
    statuses: Counter = Counter()
    errors: Counter = Counter()
    error_samples: list[str] = []
    ids: list[str] = []
    run = spec.get("run", "r")
    seq = spec.get("seq_start", 0)
    counter = {"n": 0}
    urls = spec.get("urls") or [spec["url"]]
    headers_list = spec.get("headers_list") or [spec.get("headers", {})]

    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections),
        timeout=aiohttp.ClientTimeout(total=spec.get("timeout", 15)),
        cookie_jar=aiohttp.DummyCookieJar(),  # nothing here sets cookies: skip parsing them
    ) as client:

        async def one(i: int) -> None:
            body = body_for(spec.get("body_kind", "none"), seq + i, run)
            url = urls[i % len(urls)]
            headers = dict(headers_list[i % len(headers_list)])
            if spec.get("idempotency"):
                headers["Idempotency-Key"] = f"{run}-{seq + i}"
            t0 = time.perf_counter()
            method = spec.get("method", "GET" if body is None else "POST")
            try:
                async with client.request(method, url, json=body, headers=headers) as r:
                    payload = await r.read()
            except (TimeoutError, aiohttp.ClientError) as error:
                errors[type(error).__name__] += 1
                # What went wrong, not just its class: a reset and a refused connect are
                # both ClientOSError.
                if len(error_samples) < 20:
                    error_samples.append(f"{type(error).__name__}: {error}"[:200])
                return
            latencies.append((time.perf_counter() - t0) * 1000)
            statuses[r.status] += 1
            if spec.get("collect_ids") and r.status < 300:
                try:
                    ids.append(json.loads(payload)["id"])
                except (ValueError, KeyError):
                    pass

        started = time.time()
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        late = 0
        capped = 0
        if spec["mode"] == "closed":
            deadline = time.perf_counter() + spec.get("duration", 1e9)
            total = spec.get("requests", 10**12)

            async def worker() -> None:
                while time.perf_counter() < deadline:
                    i = counter["n"]
                    if i >= total:
                        return
                    counter["n"] += 1
                    await one(i)

            await asyncio.gather(*(worker() for _ in range(spec["concurrency"])))
        else:
            sem = asyncio.Semaphore(spec.get("max_inflight", 256))
            tasks: set[asyncio.Task] = set()
            t_start = time.perf_counter()
            stop_at = t_start + sum(s for s, _ in spec["phases"]) + spec.get("grace", 30)
            offset = 0.0

            async def guarded(i: int) -> None:
                try:
                    await one(i)
                finally:
                    sem.release()

            for seconds, rate in spec["phases"]:
                n = int(seconds * rate)
                for k in range(n):
                    due = t_start + offset + k / rate
                    delay = due - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    if sem.locked():  # max_inflight answers outstanding: the system is slow
                        capped += 1
                    await sem.acquire()
                    if time.perf_counter() > stop_at:
                        sem.release()
                        break
                    if time.perf_counter() - due > 1.0:
                        late += 1
                    task = asyncio.create_task(guarded(counter["n"]))
                    counter["n"] += 1
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                offset += seconds
            if tasks:
                await asyncio.wait(tasks)
        finished = time.time()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "latencies_ms": latencies,
        "statuses": {str(k): v for k, v in statuses.items()},
        "errors": dict(errors),
        "ids": ids,
        "sent": counter["n"],
        "late": late,
        # Calls that waited for one of max_inflight outstanding answers before they could start.
        "capped": capped,
        "error_samples": error_samples,
        # The generator's own CPU (user + system seconds): next to `late`, it tells a starved
        # generator (CPU near its wall time) from a system that answers slowly.
        "cpu_seconds": cpu.ru_utime + cpu.ru_stime,
        # The same while the load ran (its start-up, imports and connections, left out).
        "load_cpu_seconds": cpu.ru_utime + cpu.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime,
        "started": started,
        "finished": finished,
    }


if __name__ == "__main__":
    with open(sys.argv[1]) as spec_file:
        spec = json.load(spec_file)
    if uvloop is not None:
        uvloop.install()
    report = asyncio.run(main(spec))
    with open(sys.argv[2], "w") as out:
        json.dump(report, out)
