"""Other utility systems: OAuth2 client credentials, per-service scopes, and a rate limit.

A client (the telephony switch, the billing system, the GIS) is a confidential client of the
identity provider with a service account holding the realm role `integration`; it gets its
token from the provider's token endpoint (client credentials grant) asking for the scopes of
the services it may call (`intake`, `dispatch`, ...: each adds that service's audience). Its
secret is issued and rotated in the provider, never here. Every integration call is counted
per client; over the limit it gets 429 with Retry-After.
"""

from __future__ import annotations

import math
import time

from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from brightline.platform.auth import Principal
from brightline.platform.problems import Problem


class IntegrationGate:
    """Scope check and per-client rate limit for calls admitted as Role.INTEGRATION."""

    def __init__(self, service: str, rate_limit: str) -> None:
        self.service = service
        self.item = parse(rate_limit)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def admit(self, principal: Principal) -> None:
        if "*" not in principal.scopes and self.service not in principal.scopes:
            raise Problem(
                403,
                "insufficient-scope",
                "This client may not call this service",
                f"needs scope {self.service}",
            )
        if not await self.limiter.hit(self.item, principal.subject):
            stats = await self.limiter.get_window_stats(self.item, principal.subject)
            retry_after = max(1, math.ceil(stats.reset_time - time.time()))
            raise Problem(
                429,
                "rate-limited",
                "Too many requests from this client",
                f"limit {self.item}; retry after {retry_after} s",
                headers={"Retry-After": str(retry_after)},
            )
