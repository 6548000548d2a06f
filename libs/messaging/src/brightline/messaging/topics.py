"""`python -m brightline.messaging.topics`: create every contract topic and its .dlt twin.

Run once per deployment (the Kubernetes topic Job, or by hand) before the services start.
Idempotent: topics that exist are left exactly as they are (Kafka never lowers partitions;
raise them with kafka-topics.sh --alter). Settings from the environment:

  KAFKA_BOOTSTRAP_SERVERS   broker list (default 127.0.0.1:9092)
  KAFKA_TOPIC_PREFIX        prefix for every topic (default none)
  KAFKA_PARTITIONS          partitions of each new topic (default 12; a quiet topic
                            declares fewer in brightline.contracts.topics)
  KAFKA_REPLICATION_FACTOR  replicas of each new topic (default 1)
  KAFKA_TOPICS_TIMEOUT      seconds to wait for the broker before giving up (default 120)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

from brightline.contracts import all_topic_names
from brightline.messaging.kafka import contract_partitions, ensure_topics, prefixed
from brightline.messaging.retention import topic_configs_for


def topic_names(prefix: str = "") -> list[str]:
    return [prefixed(prefix, name) for name in all_topic_names()]


async def create_all(
    bootstrap: str,
    *,
    prefix: str = "",
    partitions: int = 12,
    replication: int = 1,
    timeout: float = 120.0,
) -> list[str]:
    """Create what is missing, retrying while the broker is not reachable yet."""
    names = topic_names(prefix)
    deadline = time.monotonic() + timeout
    while True:
        try:
            await ensure_topics(
                bootstrap,
                names,
                partitions=partitions,
                sizes=contract_partitions(prefix, partitions),
                replication=replication,
                configs=topic_configs_for(names),  # retention.ms/segment.ms, see retention.py
            )
            return names
        except Exception as error:  # noqa: BLE001 - broker still starting: wait, then give up loudly
            if time.monotonic() >= deadline:
                raise
            print(f"broker not ready ({error}); retrying", file=sys.stderr)
            await asyncio.sleep(2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m brightline.messaging.topics",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    parser.add_argument("--prefix", default=os.environ.get("KAFKA_TOPIC_PREFIX", ""))
    parser.add_argument(
        "--partitions", type=int, default=int(os.environ.get("KAFKA_PARTITIONS", "12"))
    )
    parser.add_argument(
        "--replication", type=int, default=int(os.environ.get("KAFKA_REPLICATION_FACTOR", "1"))
    )
    parser.add_argument(
        "--timeout", type=float, default=float(os.environ.get("KAFKA_TOPICS_TIMEOUT", "120"))
    )
    args = parser.parse_args(argv)
    names = asyncio.run(
        create_all(
            args.bootstrap,
            prefix=args.prefix,
            partitions=args.partitions,
            replication=args.replication,
            timeout=args.timeout,
        )
    )
    print(
        f"{len(names)} topics present ({args.partitions} partitions, fewer for a quiet topic, "
        f"replication {args.replication} when created)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
