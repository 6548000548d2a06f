"""Real infrastructure started by the project itself, for `make run` and the tests.

Nothing here is a fake: a KRaft Kafka broker from Apache Kafka's own Maven artifacts and a
PostgreSQL 16 server from the `pgserver` wheel, each in a folder of the project.
"""

from brightline.platform.local.kafka import LocalKafka
from brightline.platform.local.paths import project_root
from brightline.platform.local.postgres import LocalPostgres

__all__ = ["LocalKafka", "LocalPostgres", "project_root"]
