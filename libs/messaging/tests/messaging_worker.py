"""A relay or a consumer as its own OS process, so a test can SIGKILL it mid-stream.

usage: python messaging_worker.py relay|consume <database_url> <bootstrap> <topic_prefix>
The consumer applies each event by inserting a row into `applied` (no unique constraint:
a double application would show up as a duplicate row).
"""

import asyncio
import sys

from sqlalchemy import text

from brightline.contracts.topics import INTAKE_TICKETS
from brightline.messaging import EventConsumer, OutboxRelay, create_producer
from brightline.platform.db import create_engine, session_factory


async def apply(event, uow) -> None:
    await asyncio.sleep(0.005)  # a little work, so a kill lands mid-stream
    await uow.session.execute(text("INSERT INTO applied (event_id) VALUES (:id)"), {"id": event.id})


async def main(role: str, url: str, bootstrap: str, prefix: str) -> None:
    engine = create_engine(url, pool_size=4)
    producer = create_producer(bootstrap, f"worker-{role}")
    await producer.start()
    if role == "relay":
        relay = OutboxRelay(engine, producer, topic_prefix=prefix, batch_size=20)
        relay.start()
    else:
        consumer = EventConsumer(
            name="reliability-consumer",
            bootstrap_servers=bootstrap,
            topic_prefix=prefix,
            topics=[INTAKE_TICKETS],
            routes={"brightline.intake.ticket.recorded.v1": apply},
            session_factory=session_factory(engine),
            dead_letter_producer=producer,
            source="/test",
        )
        await consumer.start()
    print("started", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
