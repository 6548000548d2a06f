"""`python -m brightline.platform.local up` starts Kafka and PostgreSQL for `make run`."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading

from brightline.platform.local.kafka import LocalKafka, ensure_jars
from brightline.platform.local.paths import project_root
from brightline.platform.local.postgres import LocalPostgres


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m brightline.platform.local")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("kafka-jars", help="fetch the broker's jars with Maven (once)")
    sub.add_parser("keycloak-dist", help="fetch and unpack Keycloak with Maven (once)")
    up = sub.add_parser("up", help="start Kafka and PostgreSQL, print their addresses, wait")
    up.add_argument("--kafka-port", type=int, default=9092)
    up.add_argument("--env-file", help="write KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    if args.command == "kafka-jars":
        print(ensure_jars())
        return
    if args.command == "keycloak-dist":
        from brightline.platform.local.keycloak import ensure_distribution, find_java_home

        print(find_java_home())
        for profile in ("dev-mem", "dev-file"):  # the tests' and make run's
            print(ensure_distribution(profile))
        return

    root = project_root()
    postgres = LocalPostgres(root / ".local" / "pgdata")
    kafka = LocalKafka(
        root / ".local" / "kafka", port=args.kafka_port, controller_port=args.kafka_port + 1
    )
    database_url = postgres.start()
    bootstrap = kafka.start()
    env = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "DATABASE_URL": database_url}
    if args.env_file:
        with open(args.env_file, "w") as out:
            out.writelines(f"{key}={value}\n" for key, value in env.items())
    print(json.dumps({"kafka": kafka.version, "postgres": postgres.version, **env}), flush=True)

    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    kafka.stop()
    postgres.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
