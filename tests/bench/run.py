"""`make bench` (ARGS=--quick for a one-minute pass): Brightline's benchmarks.

Starts its own Kafka broker and PostgreSQL (under .local/bench-kafka and .local/bench-pg, fresh
databases and a fresh topic prefix per run), runs intake, dispatch, sla_monitor, casework,
callback, records and the console as separate processes (`python -m brightline.<svc> serve`,
LOG_LEVEL=WARNING, JSON logs), drives them from a separate load-generator process
(tests/bench/loadgen.py: aiohttp, keep-alive, uvloop) and prints a table: figure, target,
pass/MISS. Writes bench-results/results.json and chart.png.

Setup to keep in mind when reading the figures: everything (broker, database, seven services,
the load generator and this orchestrator) shares one machine; on the reference box that is 2
cores / 24 GiB, so the load generator takes CPU the services would otherwise have. Figures from a
machine other people are using at the same time are noisy. Nothing here asserts on timing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import baselines
import grid
import intake_sustained
import queues
import records
import scaleout
import storm
import timers
from common import MemorySampler, NotAvailable, Result, scale
from stack import SERVICES, Stack

SCENARIOS = {
    "baseline": baselines,
    "sustained": intake_sustained,
    "scaleout": scaleout,
    "storm": storm,
    "queues": queues,
    "timers": timers,
    "records": records,
}


def table(results: list[Result]) -> str:
    lines = [
        f"{'scenario':<10} {'figure':<50} {'value':>12} {'unit':<10} {'target':<9} {'':<5} note",
        "-" * 120,
    ]
    for r in results:
        value = (
            "n/a"
            if r.value is None
            else (f"{r.value:,.1f}" if abs(r.value) < 1000 else f"{r.value:,.0f}")
        )
        lines.append(
            f"{r.scenario:<10} {r.name[:50]:<50} {value:>12} {r.unit:<10} {r.target:<9} "
            f"{r.verdict:<5} {r.note}"
        )
    return "\n".join(lines)


def chart(results: list[Result], figures: dict, memory: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(15, 10))
    ax = axes[0][0]
    rates = {
        k: figures[k] for k in ("insert", "produce", "consume", "http", "sustained") if k in figures
    }
    ax.bar(list(rates), list(rates.values()), color=["#888"] * (len(rates) - 1) + ["#1f77b4"])
    ax.axhline(1000, color="red", linestyle="--", label="target 1,000 tickets/s")
    ax.set_yscale("log")
    ax.set_title("Throughput (per second): baselines vs intake end to end")
    ax.legend()
    ax = axes[0][1]
    lat = [
        r
        for r in results
        if r.unit in ("ms", "s") and r.value is not None and "drained" not in r.name
    ]
    scale_ms = [1000 if r.unit == "s" else 1 for r in lat]
    ax.barh(
        [f"{r.scenario}: {r.name[:38]}" for r in lat],
        [r.value * k for r, k in zip(lat, scale_ms, strict=True)],
        color=[
            "#d62728" if r.verdict == "MISS" else "#2ca02c" if r.verdict == "pass" else "#888"
            for r in lat
        ],
    )
    for i, r in enumerate(lat):
        if r.target:
            ax.plot(
                [float(r.target.split()[1]) * scale_ms[i]] * 2, [i - 0.4, i + 0.4], color="black"
            )
    ax.set_xscale("log")
    ax.set_title("Latencies (ms), black tick = target")
    ax.tick_params(axis="y", labelsize=7)
    ax = axes[1][0]
    lag = figures.get("storm_lag") or []
    if lag:
        ax.plot([t for t, _ in lag], [v for _, v in lag])
    ax.set_title("Storm: consumer lag (records) over time (s)")
    ax = axes[1][1]
    ax.bar(list(memory), [v / 2**20 for v in memory.values()])
    ax.set_title("Peak RSS (MiB)")
    ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


async def main_async(args, out: Path) -> tuple[list[Result], dict, dict]:
    sc = scale(args.quick, args.storm_minutes)
    sc.extra["records_history"] = args.records_history
    sc.extra["records_open"] = args.records_open
    sc.extra["records_regenerate"] = args.records_regenerate
    sc.extra["instance_cpu"] = args.instance_cpu
    pg_settings = dict(setting.split("=", 1) for setting in args.pg_setting)
    stack = Stack(out, partitions=args.partitions, state=args.state, pg_settings=pg_settings)
    results: list[Result] = []
    figures: dict = {}
    sampler = MemorySampler()
    print(f"starting PostgreSQL and Kafka under {stack.root / '.local'} ...", flush=True)
    await asyncio.to_thread(stack.start_infra)
    try:
        await stack.fresh_databases()
        code = dict(item.split("=", 1) for item in args.code)
        stack.extra_env = dict(item.split("=", 1) for item in args.service_env)
        for key in stack.extra_env:
            if (service := key.rpartition(":")[0]) and service not in SERVICES:
                raise SystemExit(
                    f"--service-env {key}: no service {service!r} ({', '.join(SERVICES)})"
                )
        stack.start_services(code, pod_shares=args.cpu_shares == "pods")
        figures["code"] = code
        results.append(Result("setup", "the services' CPU weights", None, "", note=stack.cpu_note))
        results.append(
            Result(
                "setup",
                "PostgreSQL settings",
                None,
                "",
                note=", ".join(f"{k}={v.strip(chr(39))}" for k, v in stack.pg_settings.items()),
            )
        )
        for name, proc in stack.procs.items():
            sampler.watch(name, proc.process.pid)
        sampler.watch("kafka (JVM)", stack.kafka.process.pid)
        sampler.start()
        profilers = []
        for name in args.profile:
            profilers.append(
                subprocess.Popen(  # noqa: ASYNC220 - runs beside the scenarios
                    [
                        str(Path(sys.executable).parent / "py-spy"),
                        "record",
                        "-p",
                        str(stack.procs[name].process.pid),
                        "-o",
                        str(out / f"profile-{name}.txt"),
                        "--format",
                        "raw",
                        "-r",
                        "50",
                        "--nonblocking",
                        # Only threads holding the GIL: py-spy's default also counts a thread
                        # preempted inside a socket send() as busy, so asyncpg's execute and
                        # StreamWriter.write looked far heavier than the CPU they cost.
                        "--gil",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        print(
            f"services up: {', '.join(f'{n} {p.url}' for n, p in stack.procs.items())}", flush=True
        )
        await grid.seed(stack)
        chosen = args.only.split(",") if args.only else list(SCENARIOS)
        for name in chosen:
            module = SCENARIOS[name]
            t0 = time.time()
            print(f"--- {name} ...", flush=True)
            try:
                got = await module.run(stack, sc, figures)
            except NotAvailable as error:
                got = [Result(name, "scenario", None, "", note=f"not available: {error}")]
            except Exception as error:  # noqa: BLE001 - one broken scenario must not sink the run
                traceback.print_exc()
                got = [
                    Result(
                        name,
                        "scenario",
                        None,
                        "",
                        note=f"error: {type(error).__name__}: {error}"[:300],
                    )
                ]
            results.extend(got)
            print(table(got).split("\n", 2)[-1], flush=True)
            load = os.getloadavg()[0]
            figures.setdefault("loadavg", {})[name] = load
            print(
                f"    ({time.time() - t0:.0f}s; 1-min load average {load:.1f} on {os.cpu_count()} CPUs)",
                flush=True,
            )
        for name, proc in stack.procs.items():
            if proc.process.poll() is not None:
                results.append(Result("health", f"{name} exited", proc.process.returncode, "code"))
        for profiler in profilers:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(30)
    finally:
        sampler.stop()
        await stack.close_held()
        stack.stop_services()
        stack.stop_infra()
    for name, peak in sampler.peak.items():
        results.append(Result("memory", f"peak RSS {name}", peak / 2**20, "MiB"))
    return results, figures, sampler.peak


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument(
        "--quick", action="store_true", help="every scenario scaled down (~1-2 minutes)"
    )
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(SCENARIOS)}")
    parser.add_argument(
        "--storm-minutes", type=float, help="storm length (full run default 5; issue: 10)"
    )
    parser.add_argument(
        "--records-history",
        type=int,
        help="historical tickets generated into records' read model "
        "(default 10,000,000; --quick 200,000)",
    )
    parser.add_argument(
        "--records-open",
        type=int,
        help="open tickets generated into records' read model (default 500,000; --quick 10,000)",
    )
    parser.add_argument(
        "--records-regenerate",
        action="store_true",
        help="generate records' read model even when a kept one of the same generator and sizes "
        "exists (it is kept in the bench's PostgreSQL between runs)",
    )
    parser.add_argument(
        "--instance-cpu",
        type=float,
        metavar="CORES",
        help="scale-out: hold every instance of the replicated services to CORES of a core (a "
        "pod's CPU limit, by a cgroup CFS quota; needs a writable cpu cgroup), so that a second "
        "instance brings CPU of its own as in a cluster",
    )
    parser.add_argument(
        "--cpu-shares",
        choices=("pods", "sessions"),
        default="pods",
        help="how the services share the box's cores when all are busy: as their pods' CPU "
        "requests in deploy/k8s (a cgroup each, as the kubelet makes; needs a writable cpu "
        "cgroup, else as sessions), or alike, one session each (the kernel's autogroups)",
    )
    parser.add_argument("--out", default="bench-results")
    parser.add_argument(
        "--state",
        help="directory of the bench's PostgreSQL and Kafka (default .local); another one lets a "
        "second bench run beside a long one",
    )
    parser.add_argument(
        "--partitions", type=int, default=12, help="partitions of every topic (KAFKA_PARTITIONS)"
    )
    parser.add_argument(
        "--service-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for every service (try a knob, e.g. SLA_KPI_REFRESH_SECONDS=3600),"
        " or for one as SERVICE:KEY=VALUE (e.g. intake:WEB_CONCURRENCY=2)",
    )
    parser.add_argument(
        "--pg-setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a PostgreSQL setting for the run over the bench's own (stack.PG_SETTINGS), applied"
        " with ALTER SYSTEM and kept by the server until another run sets it: quote a string as"
        " SQL does (e.g. commit_delay=0, shared_buffers=\"'1GB'\")",
    )
    parser.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="SERVICE",
        help="sample SERVICE with py-spy during the run: bench-results/profile-SERVICE.txt "
        "(collapsed stacks, CPU only: threads holding the GIL)",
    )
    parser.add_argument(
        "--code",
        action="append",
        default=[],
        metavar="SERVICE=WORKTREE",
        help="run SERVICE from a snapshot of another worktree (unmerged work), e.g. "
        "dispatch=/work/wt-dispatch",
    )
    args = parser.parse_args()
    if args.instance_cpu is not None and args.instance_cpu <= 0:
        parser.error("--instance-cpu: a share of a core above 0 (e.g. 0.25)")
    if malformed := [s for s in args.pg_setting if "=" not in s]:
        parser.error(f"--pg-setting KEY=VALUE, not {malformed[0]!r}")
    args.state = Path(args.state).resolve() if args.state else None
    from brightline.platform.local import project_root

    out = Path(args.out) if os.path.isabs(args.out) else project_root() / args.out
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    results, figures, memory = asyncio.run(main_async(args, out))
    print()
    print(table(results))
    print(
        f"\n{len(os.sched_getaffinity(0))} CPUs, total {time.time() - started:.0f}s; figures on a shared "
        "machine are noisy."
    )
    (out / "results.json").write_text(
        json.dumps(
            {
                "quick": args.quick,
                "started": started,
                "seconds": time.time() - started,
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": sys.version.split()[0],
                    "platform": platform.platform(),
                },
                "results": [r.to_json() for r in results],
                "code_overlays": figures.get("code"),
                "storm_lag": figures.get("storm_lag"),
                "load_average_after_each_scenario": figures.get("loadavg"),
            },
            indent=2,
            default=str,
        )
    )
    try:
        chart(results, figures, memory, out / "chart.png")
    except Exception:  # noqa: BLE001
        traceback.print_exc()
    print(f"wrote {out / 'results.json'} and {out / 'chart.png'}")


if __name__ == "__main__":
    main()
