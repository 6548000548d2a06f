"""The console as an OpenID Connect client of the identity provider (a confidential client: the
backend-for-frontend holds the secret and the tokens; the browser holds only an HttpOnly cookie).

Authorization code flow with PKCE (RFC 7636, S256), refresh, and sign-out that ends the
provider's session and revokes the refresh token. Client credentials for the softphone, which
speaks to intake for the switch.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from brightline.platform.problems import Problem


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class Tokens:
    access_token: str
    expires_in: int
    refresh_token: str | None = None
    refresh_expires_in: int | None = None
    id_token: str | None = None


class OidcClient:
    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str | None,
        discovery_url: str | None = None,
    ) -> None:
        self.issuer = (discovery_url or issuer).rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.http = httpx.AsyncClient(timeout=10)
        self._metadata: dict | None = None
        self._service_token: tuple[str, float] | None = None

    async def metadata(self) -> dict:
        if self._metadata is None:
            try:
                response = await self.http.get(f"{self.issuer}/.well-known/openid-configuration")
                response.raise_for_status()
            except httpx.HTTPError as error:
                raise Problem(
                    503,
                    "identity-provider-unavailable",
                    "The identity provider does not answer",
                    str(error),
                    headers={"Retry-After": "5"},
                ) from error
            self._metadata = response.json()
        return self._metadata

    async def authorization_url(
        self, *, redirect_uri: str, state: str, nonce: str, code_challenge: str
    ) -> str:
        endpoint = (await self.metadata())["authorization_endpoint"]
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid",
                "state": state,
                "nonce": nonce,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{endpoint}?{query}"

    def _client_auth(self) -> dict[str, str]:
        auth = {"client_id": self.client_id}
        if self.client_secret:
            auth["client_secret"] = self.client_secret
        return auth

    async def _token(self, form: dict[str, str]) -> Tokens:
        endpoint = (await self.metadata())["token_endpoint"]
        try:
            response = await self.http.post(endpoint, data={**form, **self._client_auth()})
        except httpx.HTTPError as error:
            raise Problem(
                503, "identity-provider-unavailable", "The identity provider does not answer"
            ) from error
        if response.status_code != 200:
            refusal = response.json().get("error", "") if response.content else ""
            raise Problem(401, "unauthenticated", "The identity provider refused", refusal)
        body = response.json()
        return Tokens(
            access_token=body["access_token"],
            expires_in=int(body.get("expires_in", 300)),
            refresh_token=body.get("refresh_token"),
            refresh_expires_in=body.get("refresh_expires_in"),
            id_token=body.get("id_token"),
        )

    async def exchange(self, *, code: str, code_verifier: str, redirect_uri: str) -> Tokens:
        return await self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": code_verifier,
                "redirect_uri": redirect_uri,
            }
        )

    async def refresh(self, refresh_token: str) -> Tokens:
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def service_token(self, scope: str) -> str:
        """A client-credentials token of the console's own service account (cached)."""
        cached = self._service_token
        if cached and cached[1] > time.monotonic() + 30:
            return cached[0]
        tokens = await self._token({"grant_type": "client_credentials", "scope": scope})
        self._service_token = (tokens.access_token, time.monotonic() + tokens.expires_in)
        return tokens.access_token

    async def sign_out(self, refresh_token: str | None) -> None:
        """End the provider's session (back-channel logout) and revoke the refresh token."""
        if not refresh_token:
            return
        metadata = await self.metadata()
        form = {"refresh_token": refresh_token, **self._client_auth()}
        try:
            if end := metadata.get("end_session_endpoint"):
                await self.http.post(end, data=form)
            if revoke := metadata.get("revocation_endpoint"):
                await self.http.post(
                    revoke,
                    data={
                        "token": refresh_token,
                        "token_type_hint": "refresh_token",
                        **self._client_auth(),
                    },
                )
        except httpx.HTTPError:
            pass  # the local session is gone either way; the provider's expires on its own

    async def close(self) -> None:
        await self.http.aclose()
