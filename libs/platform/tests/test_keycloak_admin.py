"""The admin REST client the tests and `make run` use against a real Keycloak: a token Keycloak
no longer honours (its session signed out, as after a stall past its lifetime) is replaced
once, not turned into a failed test set-up."""

import pytest

from brightline.platform.local.keycloak import KeycloakAdmin
from brightline.platform.testing import identity_provider

pytestmark = pytest.mark.integration


def test_a_refused_admin_token_is_replaced_and_the_call_goes_through(oidc_issuer):
    provider = identity_provider()
    username, password = provider.admin._credentials
    admin = KeycloakAdmin(provider.url, username, password)
    assert admin.realm_roles()  # a token cached, valid for about a minute by our clock
    stale = admin._token

    # Keycloak drops the admin's sessions: the cached token is now refused (401) although
    # our clock says it has most of its life left.
    [user] = admin.client.get(
        f"{admin.url}/admin/realms/master/users",
        params={"username": username, "exact": "true"},
        headers=admin._headers(),
    ).json()
    signed_out = admin.client.post(
        f"{admin.url}/admin/realms/master/users/{user['id']}/logout", headers=admin._headers()
    )
    assert signed_out.status_code == 204
    refused = admin.client.get(
        f"{admin.url}/admin/realms/{admin.realm}/roles",
        headers={"Authorization": f"Bearer {stale}"},
    )
    assert refused.status_code == 401

    assert admin.realm_roles()  # signed in again, once, and answered
    assert admin._token != stale
