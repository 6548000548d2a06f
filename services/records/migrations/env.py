from brightline.platform.migrations import run_env
from brightline.records.adapters.orm import metadata

run_env(metadata)
