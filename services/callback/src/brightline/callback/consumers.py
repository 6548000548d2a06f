"""Events callback reacts to."""

from brightline.messaging import Route

TOPICS: list = []
ROUTES: dict[str, Route] = {}
