from brightline.dispatch.main import SERVICE_DIR, create_app
from brightline.dispatch.settings import DispatchSettings
from brightline.platform.cli import run_cli

run_cli(DispatchSettings, create_app, SERVICE_DIR, default_port=8002)
