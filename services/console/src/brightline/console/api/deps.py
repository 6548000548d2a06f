"""Route dependencies: who is calling (with the access token to forward), the hub, the upstream."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from brightline.console.adapters.chases import ChaseLog
from brightline.console.adapters.clients import Upstream
from brightline.console.live import LiveHub
from brightline.platform.auth import Allow, Principal, Role


@dataclass(frozen=True)
class Caller:
    principal: Principal
    token: str

    @property
    def subject(self) -> str:
        return self.principal.subject


def _caller(*roles: Role):
    allow = Allow(*roles)

    async def dependency(
        request: Request, principal: Annotated[Principal, Depends(allow)]
    ) -> Caller:
        # The verified token: from the Authorization header (API clients) or the web session.
        return Caller(principal, request.state.access_token)

    return dependency


AgentCaller = Annotated[Caller, Depends(_caller(Role.AGENT, Role.SUPERVISOR))]
SoloAgent = Annotated[Caller, Depends(_caller(Role.AGENT))]
SupervisorCaller = Annotated[Caller, Depends(_caller(Role.SUPERVISOR))]
# A department's caseworker: the cases transferred to the department (casework scopes them).
CaseworkerCaller = Annotated[Caller, Depends(_caller(Role.CASEWORKER))]
# Everyone the console serves: the floor and the departments behind it.
StaffCaller = Annotated[Caller, Depends(_caller(Role.AGENT, Role.SUPERVISOR, Role.CASEWORKER))]


async def get_hub(request: Request) -> LiveHub:
    return request.app.state.hub


async def get_upstream(request: Request) -> Upstream:
    return request.app.state.upstream


async def get_chases(request: Request) -> ChaseLog:
    return request.app.state.chases


HubDep = Annotated[LiveHub, Depends(get_hub)]
UpstreamDep = Annotated[Upstream, Depends(get_upstream)]
ChasesDep = Annotated[ChaseLog, Depends(get_chases)]


async def switch_token(request: Request) -> str:
    """The softphone is the switch's CTI client: answer and hangup reach intake as switch events,
    with a client-credentials token of the console's own service account (realm role
    integration) from the identity provider."""
    return await request.app.state.oidc.service_token("intake")


SwitchToken = Annotated[str, Depends(switch_token)]
