"""HTTP routes of console."""

routers: list = []
