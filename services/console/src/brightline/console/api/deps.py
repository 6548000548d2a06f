"""Route dependencies: who is calling (with the raw token to forward), the hub, the upstream."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from brightline.console.adapters.clients import Upstream
from brightline.console.adapters.users import UserDirectory
from brightline.console.live import LiveHub
from brightline.platform.auth import Allow, Principal, Role, issue_token


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
        token = request.headers.get("authorization", "").split(" ", 1)[-1]
        return Caller(principal, token)

    return dependency


AgentCaller = Annotated[Caller, Depends(_caller(Role.AGENT, Role.SUPERVISOR))]
SoloAgent = Annotated[Caller, Depends(_caller(Role.AGENT))]
SupervisorCaller = Annotated[Caller, Depends(_caller(Role.SUPERVISOR))]


async def get_hub(request: Request) -> LiveHub:
    return request.app.state.hub


async def get_upstream(request: Request) -> Upstream:
    return request.app.state.upstream


async def get_users(request: Request) -> UserDirectory:
    return request.app.state.users


HubDep = Annotated[LiveHub, Depends(get_hub)]
UpstreamDep = Annotated[Upstream, Depends(get_upstream)]
UsersDep = Annotated[UserDirectory, Depends(get_users)]


async def switch_token(request: Request) -> str:
    """The softphone is the switch's CTI client: answer and hangup reach intake as switch events,
    signed with an integration token the console issues itself."""
    settings = request.app.state.settings
    return issue_token(
        settings.auth_secret.get_secret_value(),
        "console-softphone",
        [Role.INTEGRATION],
        scopes=["intake"],  # the softphone speaks for the switch, to intake only
        ttl_seconds=300,
    )


SwitchToken = Annotated[str, Depends(switch_token)]
