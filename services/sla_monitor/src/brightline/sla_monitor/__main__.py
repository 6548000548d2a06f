import sys

from brightline.platform import clock
from brightline.platform.cli import run_cli
from brightline.sla_monitor.main import SERVICE_DIR, create_app
from brightline.sla_monitor.settings import SlaMonitorSettings

if len(sys.argv) > 1 and sys.argv[1] == "replay":
    # `python -m brightline.sla_monitor replay [UNTIL]`: rebuild from the logged history, print breaches as JSON
    # and whether they equal the live tables; exit 1 when they differ.
    import asyncio
    import json
    from datetime import datetime

    from brightline.platform.db import create_engine, database_url, server_url, session_factory
    from brightline.sla_monitor import handlers
    from brightline.sla_monitor.adapters.repository import DeadlineRepository, HistoryRepository
    from brightline.sla_monitor.api.routes import live_breach_keys
    from brightline.sla_monitor.replay import replay

    async def main() -> int:
        settings = SlaMonitorSettings()
        until = datetime.fromisoformat(sys.argv[2]) if len(sys.argv) > 2 else clock.now()
        if until.tzinfo is None:
            print(f"{sys.argv[2]}: give the time with its offset (+08:00)", file=sys.stderr)
            return 2
        engine = create_engine(
            database_url(server_url(settings.database_url), settings.database_name)
        )
        async with session_factory(engine)() as session:
            history = await HistoryRepository(session).history()
            live = sorted(
                k
                for t in await DeadlineRepository(session).all_tracked()
                for k in live_breach_keys(t, until)
            )
        await engine.dispose()
        book = handlers.policy_book(tuple(settings.policy_packs), tuple(settings.policy_pack_files))
        replayed = [
            k
            for k in (await replay(history, until, book=book)).breaches
            if datetime.fromisoformat(k[2]) <= until
        ]
        print(
            json.dumps(
                {
                    "events": len(history),
                    "until": until.isoformat(),
                    "breaches": replayed,
                    "equal_to_live": replayed == live,
                },
                indent=2,
            )
        )
        return 0 if replayed == live else 1

    sys.exit(asyncio.run(main()))

run_cli(SlaMonitorSettings, create_app, SERVICE_DIR, default_port=8005)
