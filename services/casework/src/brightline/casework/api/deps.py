"""Dependencies of casework's routes: the confidentiality rules, the viewer."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from brightline.casework.domain.commands import Actor
from brightline.casework.domain.confidentiality import Confidentiality, Viewer
from brightline.platform.auth import Principal, Role


async def get_rules(request: Request) -> Confidentiality:
    return request.app.state.confidentiality


RulesDep = Annotated[Confidentiality, Depends(get_rules)]


def viewer_of(principal: Principal) -> Viewer:
    return Viewer(
        subject=principal.subject,
        roles=frozenset(str(r) for r in principal.roles),
        name=principal.name,
        staff_no=principal.staff_no,
        department_id=principal.department_id if principal.has(Role.CASEWORKER) else None,
    )


def actor_of(principal: Principal) -> Actor:
    return Actor(
        subject=principal.subject,
        department_id=principal.department_id if principal.has(Role.CASEWORKER) else None,
        is_supervisor=principal.has(Role.SUPERVISOR),
    )
