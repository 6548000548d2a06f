"""The site photos of a crew's return as the BFF hands them to the dispatcher reviewing it
(回单审核): the list as dispatch gives it, each photo's bytes in the type dispatch stored them
with (only an image type the crews' phones send is served as such), privately cacheable, and
dispatch's refusal passed on as the problem it was."""

from types import SimpleNamespace

import httpx
import pytest

from brightline.console.adapters.clients import Upstream
from brightline.console.api import dispatch_board
from brightline.platform.problems import Problem

JPEG = b"\xff\xd8\xff\xe0 the burnt fuse"
LISTED = [
    {
        "id": "p1",
        "filename": "fuse.jpg",
        "content_type": "image/jpeg",
        "size": len(JPEG),
        "uploaded_at": "2026-12-07T02:00:00+00:00",
    }
]
CALLER = SimpleNamespace(token="sup-token")


def dispatch(content_type: str = "image/jpeg") -> tuple[Upstream, list[httpx.Request]]:
    """Dispatch's photo routes: order o1 has photo p1; anything else is a 404 problem."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.raw_path.decode()
        if path == "/work-orders/o1/photos":
            return httpx.Response(200, json=LISTED)
        if path == "/work-orders/o1/photos/p1":
            return httpx.Response(200, content=JPEG, headers={"content-type": content_type})
        return httpx.Response(
            404,
            json={
                "type": "https://brightline.example/problems/not-found",
                "title": "No such photo",
                "status": 404,
                "detail": f"{path} does not exist",
            },
            headers={"content-type": "application/problem+json"},
        )

    return Upstream({"dispatch": "http://dispatch"}, transport=httpx.MockTransport(answer)), seen


async def test_the_reviewer_gets_the_returns_photos_as_dispatch_lists_them():
    upstream, seen = dispatch()
    photos = await dispatch_board.site_photos("o1", CALLER, upstream)
    assert [p.model_dump(mode="json") for p in photos] == [
        {**LISTED[0], "uploaded_at": "2026-12-07T02:00:00Z"}
    ]
    assert seen[0].headers["authorization"] == "Bearer sup-token"  # the user's own token


async def test_a_photo_comes_back_in_its_own_type_cacheable_privately():
    upstream, seen = dispatch()
    response = await dispatch_board.site_photo("o1", "p1", CALLER, upstream)
    assert response.body == JPEG
    assert response.media_type == "image/jpeg"
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("stored", ["text/html", "image/svg+xml", "application/javascript"])
async def test_a_photo_of_another_type_goes_out_as_bytes_no_browser_renders(stored):
    upstream, _ = dispatch(content_type=stored)
    response = await dispatch_board.site_photo("o1", "p1", CALLER, upstream)
    assert response.media_type == "application/octet-stream"


async def test_dispatchs_refusal_is_passed_on_as_its_problem():
    upstream, seen = dispatch()
    with pytest.raises(Problem) as refused:
        await dispatch_board.site_photo("o1", "nope", CALLER, upstream)
    assert (refused.value.status, refused.value.type, refused.value.title) == (
        404,
        "not-found",
        "No such photo",
    )
    assert refused.value.extensions["service"] == "dispatch"
    assert seen[-1].url.raw_path.decode() == "/work-orders/o1/photos/nope"
    with pytest.raises(Problem) as unknown:
        await dispatch_board.site_photos("o2", CALLER, upstream)
    assert unknown.value.status == 404
