"""Summarise a py-spy raw (collapsed) profile: `profile_summary.py bench-results/profile-intake.txt`.

Prints the share of samples per component (HTTP route, consumer, relay, scheduler, ...), then the
heaviest functions inclusive and self, with line numbers dropped.
"""

from __future__ import annotations

import re
import sys
from collections import Counter

COMPONENTS = [
    ("POST /tickets route", "record_ticket (intake/api/routes.py"),
    ("other HTTP routes", "run_endpoint_function (fastapi/routing.py"),
    ("HTTP framework (middleware, deps, JSON)", "RequestResponseCycle.run_asgi"),
    ("event consumer", "EventConsumer._run"),
    ("outbox relay", "OutboxRelay"),
    ("SLA scheduler", "Scheduler._loop"),
    ("threadpool (sync dependencies)", "WorkerThread.run"),
]


def main(path: str, top: int = 35) -> None:
    inclusive: Counter = Counter()
    own: Counter = Counter()
    parts: Counter = Counter()
    total = 0
    with open(path) as profile:
        lines = profile.readlines()
    for line in lines:
        stack, _, n = line.rstrip().rpartition(" ")
        if not n.isdigit():
            continue
        n = int(n)
        total += n
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
        for label, marker in COMPONENTS:
            if marker in stack:
                parts[label] += n
                break
        else:
            parts["other (event loop idle, startup)"] += n
    print(f"{total} samples")
    for label, n in parts.most_common():
        print(f"  {100 * n / total:5.1f}%  {label}")
    print("inclusive:")
    for frame, n in inclusive.most_common(top):
        print(f"  {100 * n / total:5.1f}%  {frame}")
    print("self:")
    for frame, n in own.most_common(top // 2):
        print(f"  {100 * n / total:5.1f}%  {frame}")


if __name__ == "__main__":
    main(sys.argv[1])
