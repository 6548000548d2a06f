from brightline.intake.main import SERVICE_DIR, create_app
from brightline.intake.settings import IntakeSettings
from brightline.platform.cli import run_cli

run_cli(IntakeSettings, create_app, SERVICE_DIR, default_port=8001)
