from brightline.callback.main import SERVICE_DIR, create_app
from brightline.callback.settings import CallbackSettings
from brightline.platform.cli import run_cli

run_cli(CallbackSettings, create_app, SERVICE_DIR, default_port=8004)
