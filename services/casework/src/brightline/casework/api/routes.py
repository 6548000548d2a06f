"""HTTP routes of casework."""

routers: list = []
