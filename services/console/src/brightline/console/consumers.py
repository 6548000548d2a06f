"""The console consumes no events through the inbox: it owns no business data. Its live view
(brightline.console.live) reads the topics with a plain consumer of its own per process."""

from brightline.messaging import Route

TOPICS: list = []
ROUTES: dict[str, Route] = {}
