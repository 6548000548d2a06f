"""Shared pieces of the benchmark: results, percentiles, the stack (broker, database, services),
the separate-process load generator and the memory sampler."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent


class NotAvailable(Exception):
    """The code under test lacks what a scenario needs (an endpoint, a table): reported, not fatal."""


@dataclass
class Result:
    scenario: str
    name: str
    value: float | None
    unit: str
    target: str = ""  # e.g. ">= 1000" or "<= 25"
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "n/a"
        if not self.target:
            return ""
        op, bound = self.target.split()
        bound = float(bound)
        ok = self.value >= bound if op == ">=" else self.value <= bound
        return "pass" if ok else "MISS"

    def to_json(self) -> dict:
        return {**asdict(self), "verdict": self.verdict}


@dataclass
class Scale:
    quick: bool
    baseline_seconds: float
    sustained_seconds: float
    sustained_concurrency: int
    storm_total: int
    storm_seconds: float
    storm_spike_rate: float
    storm_spike_seconds: float
    timers_total: int
    timers_spread_seconds: float
    timers_observe_seconds: float
    queue_history: int
    queue_open: int
    queue_agents: int
    queue_requests: int
    extra: dict = field(default_factory=dict)


def scale(quick: bool, storm_minutes: float | None = None) -> Scale:
    if quick:
        return Scale(
            True,
            baseline_seconds=4,
            sustained_seconds=10,
            sustained_concurrency=32,
            storm_total=3000,
            storm_seconds=30,
            storm_spike_rate=200,
            storm_spike_seconds=8,
            timers_total=100_000,
            timers_spread_seconds=600,
            timers_observe_seconds=20,
            queue_history=1_000_000,
            queue_open=50_000,
            queue_agents=400,
            queue_requests=60,
        )
    # The storm is 100,000 calls in 10 minutes; by default it is compressed to 5 minutes
    # (the same spike, a busier background) so the whole run fits ~15 minutes. --storm-minutes 10
    # gives the exact profile.
    return Scale(
        False,
        baseline_seconds=10,
        sustained_seconds=45,
        sustained_concurrency=64,
        storm_total=100_000,
        storm_seconds=60 * (storm_minutes or 5),
        storm_spike_rate=1000,
        storm_spike_seconds=60,
        timers_total=1_000_000,
        timers_spread_seconds=3600,
        timers_observe_seconds=90,
        queue_history=10_000_000,
        queue_open=500_000,
        queue_agents=2000,
        queue_requests=200,
    )


def pct(values, q: float) -> float | None:
    values = sorted(values)
    if not values:
        return None
    k = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[k]


# ---------------------------------------------------------------- load generator (own process)


def run_loadgen(spec: dict, out_dir: Path, name: str, timeout: float) -> dict:
    """Run tests/bench/loadgen.py as its own process (so it does not share the server's event
    loop or GIL) and return its JSON report."""
    spec_path = out_dir / f"{name}.spec.json"
    out_path = out_dir / f"{name}.out.json"
    spec_path.write_text(json.dumps(spec))
    out_path.unlink(missing_ok=True)
    subprocess.run(
        [sys.executable, str(HERE / "loadgen.py"), str(spec_path), str(out_path)],
        check=True,
        timeout=timeout,
    )
    return json.loads(out_path.read_text())


async def run_loadgen_async(spec: dict, out_dir: Path, name: str, timeout: float) -> dict:
    return await asyncio.to_thread(run_loadgen, spec, out_dir, name, timeout)


# ---------------------------------------------------------------- memory


class MemorySampler:
    """Peak RSS of each watched process (and its children), sampled every half second."""

    def __init__(self) -> None:
        self.pids: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def watch(self, name: str, pid: int) -> None:
        self.pids[name] = pid

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():  # services that never came up: it was never started
            self._thread.join(5)

    def _run(self) -> None:
        import psutil

        while not self._stop.wait(0.5):
            for name, pid in list(self.pids.items()):
                try:
                    proc = psutil.Process(pid)
                    rss = proc.memory_info().rss
                    for child in proc.children(recursive=True):
                        try:
                            rss += child.memory_info().rss
                        except psutil.Error:
                            pass
                except psutil.Error:
                    continue
                self.peak[name] = max(self.peak.get(name, 0), rss)


# ---------------------------------------------------------------- HTTP helpers


async def http_ok(client: httpx.AsyncClient, method: str, url: str, **kw) -> httpx.Response:
    """A call a scenario depends on: 404/405 means the code under test lacks it."""
    response = await client.request(method, url, **kw)
    if response.status_code == 405 or (
        response.status_code == 404 and '"title":"Not Found"' in response.text
    ):
        raise NotAvailable(f"{method} {url} answered {response.status_code}")
    if response.status_code >= 400:
        raise RuntimeError(f"{method} {url} answered {response.status_code}: {response.text[:300]}")
    return response


def now() -> float:
    return time.time()


def env_flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false")
