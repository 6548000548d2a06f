"""What FastAPI resolves on every POST /tickets: each dependency is resolved anew per request
(its cache key, its security scopes, its call), so the tree is kept flat."""

from fastapi.routing import APIRoute

from brightline.intake.api.routes import router


def resolved(dependant) -> list[str]:
    """Every dependency of the tree, depth first, by the name of what it calls."""
    names = []
    for sub in dependant.dependencies:
        call = sub.call
        names.append(getattr(call, "__name__", type(call).__name__))
        names += resolved(sub)
    return names


def test_recording_a_ticket_resolves_its_three_dependencies_and_no_more():
    route = next(r for r in router.routes if isinstance(r, APIRoute) and r.methods == {"POST"})
    # The unit of work and the bus (one: it reads the runtime itself), the caller's roles
    # (which authenticates the caller itself) and the bearer credentials (the OpenAPI's
    # security).
    assert sorted(resolved(route.dependant)) == ["Allow", "HTTPBearer", "get_handling"]
