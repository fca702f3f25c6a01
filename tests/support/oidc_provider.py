"""A real OpenID provider on loopback: the certified ``oidc-provider`` (npm) run by Node.

``tests/support/oidc/provider.js`` serves every tenant under ``http://localhost:PORT/<tid>/v2.0``,
the shape of Entra ID's tenant-specific issuers, all signing with one key set (as Entra does). It
listens on 127.0.0.1; the name ``localhost`` in its issuer makes it another site than an app on
``127.0.0.1``, so a browser treats its cookies and redirects as it treats Entra's.
Each tenant knows the client given here and its own accounts, with ``tid``/``oid`` claims::

    with OidcProvider(redirect_uri, {TENANT: [Account("anna", "pw", tid=TENANT, oid="...")]}) as idp:
        idp.issuer(TENANT)   # 'http://localhost:PORT/<TENANT>/v2.0'

A missing ``node`` or an uninstalled package (``npm ci --prefix tests/support/oidc``) skips the
test on a developer's machine and fails it in CI (``support.services.missing``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from joserfc.jwk import RSAKey

from .services import free_port, missing

__all__ = ["Account", "OidcProvider", "CLIENT_ID", "CLIENT_SECRET", "PROVIDER_DIR"]

PROVIDER_DIR = Path(__file__).with_name("oidc")
CLIENT_ID = "klachtwacht-test"
CLIENT_SECRET = "een-geheim-van-de-app-registratie"
#: Seconds the provider may take to listen.
START_TIMEOUT = 20.0


@dataclass(frozen=True)
class Account:
    """A user of one tenant; ``tid`` is the claim in the token (normally the tenant itself)."""

    login: str
    password: str
    tid: str
    oid: str
    name: str = ""
    email: str | None = None

    @property
    def sub(self) -> str:
        # pairwise and unlike oid, as Entra's: proves the app keys on oid, not sub
        return f"sub-{self.oid[::-1]}"


class OidcProvider:
    """Node running provider.js with the given tenants and one confidential client in each."""

    def __init__(
        self,
        redirect_uri: str,
        tenants: dict[str, list[Account]],
        *,
        host: str = "localhost",
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
    ) -> None:
        self.redirect_uri = redirect_uri
        self.host = host
        self.tenants = tenants
        self.client_id = client_id
        self.client_secret = client_secret
        self.port = free_port()
        self._process: subprocess.Popen[str] | None = None
        self._folder: tempfile.TemporaryDirectory[str] | None = None

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def issuer(self, tid: str) -> str:
        return f"{self.origin}/{tid}/v2.0"

    def _config(self) -> dict[str, object]:
        key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"})
        client = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "redirect_uris": [self.redirect_uri],
            "response_types": ["code"],
            "grant_types": ["authorization_code"],
            "token_endpoint_auth_method": "client_secret_basic",
        }
        tenants = [
            {
                "tid": tid,
                "clients": [client],
                "accounts": [
                    {"login": a.login, "password": a.password, "sub": a.sub,
                     "claims": {"tid": a.tid, "oid": a.oid, "name": a.name, "preferred_username": a.login,
                                **({"email": a.email} if a.email else {})}}
                    for a in accounts
                ],
            }
            for tid, accounts in self.tenants.items()
        ]
        return {"port": self.port, "host": self.host, "jwks": {"keys": [key.as_dict(private=True)]}, "tenants": tenants}

    def start(self) -> None:
        node = shutil.which("node")
        if node is None:
            missing("node is not installed (the OpenID provider of the tests runs on Node.js)")
        if not (PROVIDER_DIR / "node_modules" / "oidc-provider" / "package.json").is_file():
            missing("oidc-provider is not installed: run npm ci --prefix tests/support/oidc")
        self._folder = tempfile.TemporaryDirectory(prefix="kw-oidc-")
        config = Path(self._folder.name) / "provider.json"
        config.write_text(json.dumps(self._config()), encoding="utf-8")
        log = open(Path(self._folder.name) / "provider.log", "w+", encoding="utf-8")
        self._log = log
        self._process = subprocess.Popen(
            [node, str(PROVIDER_DIR / "provider.js"), str(config)],
            cwd=PROVIDER_DIR, stdout=subprocess.PIPE, stderr=log, text=True,
        )
        ready = threading.Event()
        stdout = self._process.stdout
        assert stdout is not None

        def wait_for_ready() -> None:
            for line in stdout:
                if line.strip() == f"ready {self.port}":
                    ready.set()
                    return

        threading.Thread(target=wait_for_ready, daemon=True).start()
        if not ready.wait(START_TIMEOUT):
            log_text = self.log_text()
            self.close()
            raise RuntimeError(f"the OpenID provider did not start within {START_TIMEOUT:.0f} s:\n{log_text}")

    def log_text(self) -> str:
        self._log.flush()
        self._log.seek(0)
        return self._log.read()

    def close(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stdout:
                self._process.stdout.close()
            self._process = None
            self._log.close()
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    def __enter__(self) -> OidcProvider:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
