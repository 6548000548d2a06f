from brightline.sla_monitor.adapters.orm import metadata
from brightline.platform.migrations import run_env

run_env(metadata)
