"""TokenVerifier against a real HTTP issuer (discovery document + JWKS served on a loopback
port): keys found by kid, a new kid refetches the JWKS (rotation without restart), and issuer,
audience, expiry and algorithm are enforced."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from brightline.platform import auth
from brightline.platform.auth import Role, TokenVerifier
from brightline.platform.problems import Problem

AUDIENCE = "brightline-intake"


class Issuer:
    def __init__(self) -> None:
        self.keys: dict[str, object] = {}
        self.jwks_fetches = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                if self.path.endswith("/.well-known/openid-configuration"):
                    body = {"issuer": issuer.url, "jwks_uri": f"{issuer.url}/certs"}
                elif self.path.endswith("/certs"):
                    issuer.jwks_fetches += 1
                    body = {"keys": [issuer.jwk(kid, key) for kid, key in issuer.keys.items()]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/realms/test"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def jwk(kid: str, key) -> dict:
        if isinstance(key, rsa.RSAPrivateKey):
            data = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            data["alg"] = "RS256"
        else:
            data = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
            data["alg"] = "ES256"
        return {**data, "kid": kid, "use": "sig"}

    def token(self, kid: str, **overrides) -> str:
        key = self.keys[kid]
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": [AUDIENCE, "brightline-dispatch"],
            "sub": "uuid-1",
            "preferred_username": "agent-7",
            "roles": ["agent", "offline_access"],
            "staff_no": "1007",
            "iat": now,
            "exp": now + 300,
            **overrides,
        }
        alg = "RS256" if isinstance(key, rsa.RSAPrivateKey) else "ES256"
        return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


@pytest.fixture
def issuer():
    server = Issuer()
    server.keys["k1"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    yield server
    server.server.shutdown()


async def test_a_token_is_verified_by_its_kid_and_a_rotated_key_is_fetched(issuer, monkeypatch):
    monkeypatch.setattr(auth, "JWKS_REFETCH_SECONDS", 0.0)
    verifier = TokenVerifier(issuer.url, AUDIENCE)
    principal = await verifier.principal(issuer.token("k1"))
    assert principal.subject == "agent-7" and principal.roles == {Role.AGENT}
    assert principal.staff_no == "1007"
    assert issuer.jwks_fetches == 1
    assert (await verifier.principal(issuer.token("k1"))).subject == "agent-7"
    assert issuer.jwks_fetches == 1  # cached

    issuer.keys["k2"] = ec.generate_private_key(ec.SECP256R1())  # the provider rotates (ES256)
    assert (await verifier.principal(issuer.token("k2"))).subject == "agent-7"
    assert issuer.jwks_fetches == 2


async def test_issuer_audience_expiry_and_algorithm_are_enforced(issuer):
    verifier = TokenVerifier(issuer.url, AUDIENCE)
    refused = {
        "other issuer": issuer.token("k1", iss="https://evil.example/realms/x"),
        "other audience": issuer.token("k1", aud="brightline-casework"),
        "expired": issuer.token("k1", exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
        "no expiry": jwt.encode(
            {"iss": issuer.url, "aud": AUDIENCE, "sub": "x", "iat": int(time.time())},
            issuer.keys["k1"],
            algorithm="RS256",
            headers={"kid": "k1"},
        ),
        "HS256": jwt.encode(
            {"iss": issuer.url, "aud": AUDIENCE, "sub": "x", "exp": int(time.time()) + 60},
            "a-shared-secret-of-at-least-32-bytes!!",
            algorithm="HS256",
            headers={"kid": "k1"},
        ),
        "unknown kid": jwt.encode(
            {"iss": issuer.url, "aud": AUDIENCE, "sub": "x", "exp": int(time.time()) + 60},
            rsa.generate_private_key(public_exponent=65537, key_size=2048),
            algorithm="RS256",
            headers={"kid": "k9"},
        ),
    }
    for what, token in refused.items():
        with pytest.raises(Problem) as caught:
            await verifier.principal(token)
        assert caught.value.status == 401, what


async def test_unknown_kids_do_not_hammer_the_issuer(issuer):
    verifier = TokenVerifier(issuer.url, AUDIENCE)
    await verifier.principal(issuer.token("k1"))
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for n in range(20):
        token = jwt.encode(
            {"iss": issuer.url, "aud": AUDIENCE, "sub": "x", "exp": int(time.time()) + 60},
            stranger,
            algorithm="RS256",
            headers={"kid": f"guess-{n}"},
        )
        with pytest.raises(Problem):
            await verifier.principal(token)
    assert issuer.jwks_fetches == 1  # refetches are rate-limited


async def test_a_verified_token_is_not_verified_again_until_it_expires(issuer, monkeypatch):
    """The signature of a token is checked once; the remembered caller is given back only until
    the token's expiry, after which the token is refused as any expired token is."""
    decoded = []
    real_decode = auth.jwt.decode

    def counting_decode(*args, **kwargs):
        decoded.append(1)
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(auth.jwt, "decode", counting_decode)
    verifier = TokenVerifier(issuer.url, AUDIENCE, leeway=0)
    token = issuer.token("k1")
    first = await verifier.principal(token)
    assert await verifier.principal(token) == first
    assert len(decoded) == 1
    other = issuer.token("k1", preferred_username="agent-8", jti="another")
    assert (await verifier.principal(other)).subject == "agent-8"
    assert len(decoded) == 2  # a different token is verified on its own

    short = issuer.token("k1", exp=int(time.time()) + 1, jti="short")
    assert (await verifier.principal(short)).subject == "agent-7"
    await asyncio.sleep(2.1)  # past its expiry (whole seconds)
    with pytest.raises(Problem) as caught:
        await verifier.principal(short)
    assert caught.value.status == 401
