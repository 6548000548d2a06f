"""Keycloak, the identity provider, run from its Maven Central distribution like Kafka.

`org.keycloak:keycloak-quarkus-dist:<version>:zip` is fetched once with Maven into
.cache/keycloak/, unpacked once per profile (a Keycloak build is per database kind: the tests
use an in-memory database, `make run` the project's PostgreSQL or a file), and started with
`bin/kc.sh start-dev` on 127.0.0.1 on the newest JDK >= 21 found under /usr/lib/jvm (Keycloak 26
does not run on Java 17). The realm is data: deploy/keycloak/realm-brightline.json is imported at
start; further imports (the demo users of `make run`, the test client of the test suite) go
through the admin REST API's partial import. Ready means: the realm's discovery document and
the JWKS it names both answer.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from brightline.platform.local.paths import free_port, project_root
from brightline.platform.local.progress import Progress, log_size

READY_POLL_SECONDS = 1.0

log = logging.getLogger(__name__)

KEYCLOAK_VERSION = "26.5.6"
REALM = "brightline"
MIN_JAVA = 21


def realm_file(root: Path | None = None) -> Path:
    return (root or project_root()) / "deploy" / "keycloak" / "realm-brightline.json"


def find_java_home(jvm_dir: Path = Path("/usr/lib/jvm")) -> Path:
    """The newest JDK >= 21 on the machine (JAVA_HOME first when it qualifies)."""
    candidates: list[tuple[int, Path]] = []
    homes = [Path(p) for p in [os.environ.get("KEYCLOAK_JAVA_HOME", "")] if p]
    if jvm_dir.is_dir():
        homes += sorted(jvm_dir.iterdir())
    if java_home := os.environ.get("JAVA_HOME"):
        homes.append(Path(java_home))
    for home in homes:
        release = home / "release"
        if not (home / "bin" / "java").exists() or not release.is_file():
            continue
        match = re.search(r'JAVA_VERSION="(\d+)', release.read_text(errors="replace"))
        if match and int(match.group(1)) >= MIN_JAVA:
            candidates.append((int(match.group(1)), home))
    if not candidates:
        raise RuntimeError(
            f"Keycloak {KEYCLOAK_VERSION} needs a JDK >= {MIN_JAVA}; none found under {jvm_dir} "
            "(install one, e.g. Temurin 25, or set KEYCLOAK_JAVA_HOME)"
        )
    return max(candidates, key=lambda c: c[0])[1]


def ensure_distribution(profile: str, root: Path | None = None) -> Path:
    """The unpacked Keycloak of this profile, fetched with Maven and unpacked once."""
    root = root or project_root()
    cache = root / ".cache" / "keycloak"
    home = cache / KEYCLOAK_VERSION / profile / f"keycloak-{KEYCLOAK_VERSION}"
    done = home.parent / ".complete"
    if done.exists():
        return home
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return home
        archive = cache / f"keycloak-quarkus-dist-{KEYCLOAK_VERSION}.zip"
        if not archive.exists():
            if shutil.which("mvn") is None:
                raise RuntimeError("Maven (mvn) is needed once to fetch Keycloak")
            log.info("fetching Keycloak %s with Maven into %s", KEYCLOAK_VERSION, cache)
            subprocess.run(
                [
                    "mvn",
                    "-q",
                    "-B",
                    "dependency:copy",
                    f"-Dartifact=org.keycloak:keycloak-quarkus-dist:{KEYCLOAK_VERSION}:zip",
                    f"-DoutputDirectory={cache}",
                ],
                check=True,
            )
        shutil.rmtree(home.parent, ignore_errors=True)
        home.parent.mkdir(parents=True)
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(home.parent)
        for script in (home / "bin").glob("*.sh"):
            script.chmod(0o755)
        done.touch()
    return home


class LocalKeycloak:
    """Start, wait for, and stop one Keycloak. `issuer` is the brightline realm's issuer URL.

    `database`: "dev-mem" (tests: nothing outlives the session), "dev-file" (a file under
    data_dir), or a JDBC URL of PostgreSQL (`make run` with the project's database).
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        database: str = "dev-mem",
        db_username: str | None = None,
        db_password: str | None = None,
        admin_password: str | None = None,
        heap: str = "768m",
        root: Path | None = None,
    ) -> None:
        self.root = root or project_root()
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.management_port = free_port()
        self.database = database
        self.db_username = db_username
        self.db_password = db_password
        self.admin_username = "admin"
        self.admin_password = admin_password or secrets.token_urlsafe(18)
        self.heap = heap
        self.version = KEYCLOAK_VERSION
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.url}/realms/{REALM}"

    @property
    def profile(self) -> str:
        return "postgres" if self.database.startswith("jdbc:") else self.database

    def _command(self, home: Path) -> list[str]:
        db_args = [f"--db={self.profile}"]
        if self.database.startswith("jdbc:"):
            db_args += [f"--db-url={self.database}"]
            if self.db_username:
                db_args.append(f"--db-username={self.db_username}")
            if self.db_password:
                db_args.append(f"--db-password={self.db_password}")
        elif self.database == "dev-file":
            db_args += [f"--db-url-path={self.data_dir / 'h2'}"]
        return [
            str(home / "bin" / "kc.sh"),
            "start-dev",
            "--http-host=127.0.0.1",
            f"--http-port={self.port}",
            "--http-management-port",
            str(self.management_port),
            "--health-enabled=true",
            "--import-realm",
            "--cache=local",
            *db_args,
        ]

    def start(self, stall: float = 240.0, on_spawn: Callable[[int], None] | None = None) -> str:
        """Start and wait until discovery and JWKS answer, however long that takes while its
        log grows (gives up when the log stands still for `stall` seconds); `on_spawn(pid)` is
        told the server's process group at once (make run's watchdog stops it if the launcher
        dies)."""
        if self.process and self.process.poll() is None:
            return self.issuer
        home = ensure_distribution(self.profile, self.root)
        imports = home / "data" / "import"
        imports.mkdir(parents=True, exist_ok=True)
        shutil.copy(realm_file(self.root), imports / "realm-brightline.json")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        java_home = find_java_home()
        env = {
            **os.environ,
            "JAVA_HOME": str(java_home),
            "PATH": f"{java_home / 'bin'}:{os.environ.get('PATH', '')}",
            "JAVA_OPTS_KC_HEAP": f"-Xms128m -Xmx{self.heap}",
            "KC_BOOTSTRAP_ADMIN_USERNAME": self.admin_username,
            "KC_BOOTSTRAP_ADMIN_PASSWORD": self.admin_password,
        }
        # A Keycloak build is per profile; two sessions starting the same profile at once must
        # not both rebuild it.
        log_path = self.data_dir / "keycloak.log"
        with open(home.parent / ".start-lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            log_file = open(log_path, "ab")
            self.process = subprocess.Popen(
                self._command(home),
                cwd=self.data_dir,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            log_file.close()
            if on_spawn is not None:
                on_spawn(self.process.pid)
            try:
                self._wait_ready(stall, log_path)
            except BaseException:
                self.stop()
                raise
        log.info("Keycloak %s ready at %s", self.version, self.issuer)
        return self.issuer

    def _wait_ready(self, stall: float, log_path: Path) -> None:
        # Bounded by progress: a busy machine starts Keycloak slowly but its log grows.
        progress = Progress(log_size(log_path), stall=stall)
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-4000:]
                raise RuntimeError(f"Keycloak exited with {self.process.returncode}:\n{tail}")
            if answers_discovery(self.issuer):
                return
            if progress.stalled():
                raise TimeoutError(
                    f"Keycloak does not serve {self.issuer} and its log has not grown for "
                    f"{stall:.0f}s"
                )
            time.sleep(READY_POLL_SECONDS)

    def stop(self, timeout: float = 30.0) -> None:
        if not self.process or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    # ---------------------------------------------------------------- admin REST API
    def admin(self) -> KeycloakAdmin:
        return KeycloakAdmin(self.url, self.admin_username, self.admin_password)


def answers_discovery(issuer: str) -> bool:
    """True when the realm's discovery document and its JWKS both answer."""
    try:
        with httpx.Client(timeout=3) as client:
            discovery = client.get(f"{issuer}/.well-known/openid-configuration")
            if discovery.status_code != 200:
                return False
            jwks = client.get(discovery.json()["jwks_uri"])
            return jwks.status_code == 200 and bool(jwks.json().get("keys"))
    except (httpx.HTTPError, ValueError, KeyError):
        return False


class KeycloakAdmin:
    """The few admin REST calls the project needs (partial imports, users), synchronous."""

    def __init__(self, url: str, username: str, password: str, realm: str = REALM) -> None:
        self.url = url.rstrip("/")
        self.realm = realm
        self._credentials = (username, password)
        self._token: str | None = None
        self._expires = 0.0
        self.client = httpx.Client(timeout=30)

    def _headers(self) -> dict[str, str]:
        if self._token is None or time.monotonic() > self._expires:
            # The lifetime counts from before the request: on a busy machine the answer can
            # come many seconds after Keycloak stamped the token.
            asked = time.monotonic()
            username, password = self._credentials
            response = self.client.post(
                f"{self.url}/realms/master/protocol/openid-connect/token",
                data={
                    "grant_type": "password",
                    "client_id": "admin-cli",
                    "username": username,
                    "password": password,
                },
            )
            response.raise_for_status()
            body = response.json()
            self._token = body["access_token"]
            self._expires = asked + body.get("expires_in", 60) - 10
        return {"Authorization": f"Bearer {self._token}"}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = f"{self.url}/admin/realms/{self.realm}{path}"
        response = self.client.request(method, url, headers=self._headers(), **kwargs)
        if response.status_code == 401:
            # Refused though not yet expired by our clock (a stalled process, Keycloak's own
            # clock): sign in again once, then believe the answer.
            self._token = None
            response = self.client.request(method, url, headers=self._headers(), **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(
                f"Keycloak admin {method} {path}: {response.status_code} {response.text[:500]}"
            )
        return response

    def partial_import(
        self, document: dict[str, Any] | Path, policy: str = "OVERWRITE"
    ) -> dict[str, Any]:
        """Add users, clients, roles... to the realm (POST /partialImport)."""
        realm: dict[str, Any] = (
            json.loads(document.read_text()) if isinstance(document, Path) else document
        )
        body = {**realm, "ifResourceExists": policy}
        body.pop("realm", None)
        imported: dict[str, Any] = self.request("POST", "/partialImport", json=body).json()
        return imported

    def allow_admin_attributes(self) -> None:
        """Let the realm's users carry attributes the user profile does not declare (set by an
        administrator only): staff_no, crew_id, unit_id, department_id, scopes in the tests."""
        profile = self.request("GET", "/users/profile").json()
        if profile.get("unmanagedAttributePolicy") != "ADMIN_EDIT":
            profile["unmanagedAttributePolicy"] = "ADMIN_EDIT"
            self.request("PUT", "/users/profile", json=profile)

    def configure_client(self, client_id: str, **changes: Any) -> dict[str, Any]:
        """Change a client of the realm (secret, redirect URIs, ...); its representation."""
        found = self.request("GET", "/clients", params={"clientId": client_id}).json()
        if not found:
            raise RuntimeError(f"the realm has no client {client_id}")
        representation = {**found[0], **changes}
        self.request("PUT", f"/clients/{found[0]['id']}", json=representation)
        return representation

    def realm_roles(self) -> dict[str, dict[str, Any]]:
        return {r["name"]: r for r in self.request("GET", "/roles").json()}

    def ensure_user(
        self,
        username: str,
        password: str,
        roles: list[str],
        attributes: dict[str, list[str]],
        *,
        name: str | None = None,
    ) -> str:
        """Create (or reset) a user with exactly these realm roles and attributes; its id."""
        found = self.request("GET", "/users", params={"username": username, "exact": "true"})
        representation = {
            "username": username,
            "enabled": True,
            "emailVerified": True,
            "firstName": name or username,
            "email": f"{username}@brightline.test",
            "attributes": attributes,
            "requiredActions": [],
        }
        if found.json():
            user_id: str = found.json()[0]["id"]
            self.request("PUT", f"/users/{user_id}", json=representation)
        else:
            created = self.request("POST", "/users", json=representation)
            user_id = created.headers["Location"].rsplit("/", 1)[-1]
        self.request(
            "PUT",
            f"/users/{user_id}/reset-password",
            json={"type": "password", "value": password, "temporary": False},
        )
        current = {
            r["name"] for r in self.request("GET", f"/users/{user_id}/role-mappings/realm").json()
        }
        known = self.realm_roles()
        if extra := [
            known[r] for r in current - set(roles) if r in known and not r.startswith("default-")
        ]:
            self.request("DELETE", f"/users/{user_id}/role-mappings/realm", json=extra)
        if missing := [known[r] for r in set(roles) - current]:
            self.request("POST", f"/users/{user_id}/role-mappings/realm", json=missing)
        return user_id
