"""Versioned event payloads, one module per owning service. Importing registers them."""

from brightline.contracts.events import callback, casework, dispatch, intake, sla  # noqa: F401
