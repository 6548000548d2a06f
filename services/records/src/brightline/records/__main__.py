import sys

from brightline.records.main import SERVICE_DIR, create_app
from brightline.records.settings import RecordsSettings

if len(sys.argv) > 1 and sys.argv[1] == "rebuild":
    from brightline.records.rebuild import main

    sys.exit(main(sys.argv[2:]))

from brightline.platform.cli import run_cli  # noqa: E402

run_cli(RecordsSettings, create_app, SERVICE_DIR, default_port=8006)
