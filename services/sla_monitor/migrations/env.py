from brightline.platform.migrations import run_env
from brightline.sla_monitor.adapters.orm import metadata

run_env(metadata)
