from brightline.console.main import SERVICE_DIR, create_app
from brightline.console.settings import ConsoleSettings
from brightline.platform.cli import run_cli

run_cli(ConsoleSettings, create_app, SERVICE_DIR, default_port=8000)
