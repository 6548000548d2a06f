"""Events intake reacts to: none yet in the walking skeleton."""

from brightline.messaging import Route

TOPICS: list = []
ROUTES: dict[str, Route] = {}
