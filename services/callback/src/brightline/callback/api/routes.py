"""HTTP routes of callback."""

routers: list = []
