"""Every service of the checkout starts as its own process and answers /readyz."""

import pytest

pytestmark = pytest.mark.e2e


async def test_every_service_is_ready(stack):
    async with stack.http() as http:
        for name in stack.processes:
            response = await http.get(f"{stack.url(name)}/readyz")
            assert response.status_code == 200, (name, response.text)
