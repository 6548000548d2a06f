from brightline.sla_monitor.main import SERVICE_DIR, create_app
from brightline.sla_monitor.settings import SlaMonitorSettings
from brightline.platform.cli import run_cli

run_cli(SlaMonitorSettings, create_app, SERVICE_DIR, default_port=8005)
