"""OAuth2 access tokens for XOAUTH2 logins, behind one small protocol.

Exchange Online takes an app-only token from Entra ID's client-credentials
flow with scope ``https://outlook.office365.com/.default``. The protocol keeps
that testable: tests hand in a :class:`StaticTokenProvider`.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from klachtwacht.errors import AuthenticationFailed, MailboxUnavailable

__all__ = ["TokenProvider", "StaticTokenProvider", "MsalTokenProvider", "EXCHANGE_SCOPE", "ENTRA_AUTHORITY"]

EXCHANGE_SCOPE = "https://outlook.office365.com/.default"
ENTRA_AUTHORITY = "https://login.microsoftonline.com"
#: Seconds a request to Entra ID may take.
TOKEN_TIMEOUT = 30.0


class TokenProvider(Protocol):
    """Gives an access token; ``refresh=True`` asks for a new one."""

    def token(self, *, refresh: bool = False) -> str: ...


class StaticTokenProvider:
    """A token given from outside (a file, a variable, a test)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def token(self, *, refresh: bool = False) -> str:
        return self._token


class MsalTokenProvider:
    """App-only tokens from MSAL's client-credentials flow.

    MSAL caches the token and reuses it until shortly before it expires;
    ``refresh=True`` (after Exchange said ``AccessTokenExpired``) starts from
    an empty cache so a new token is requested.
    """

    def __init__(
        self,
        tenant_id: str,
        client_id: str,
        client_secret: str | dict[str, str],
        *,
        scope: str = EXCHANGE_SCOPE,
        app_factory: Any = None,
        authority: str = ENTRA_AUTHORITY,
        verify: str | bool = True,
    ) -> None:
        self._tenant_id = tenant_id
        self._authority = authority.rstrip("/")
        self._verify = verify
        self._client_id = client_id
        self._client_secret = client_secret
        self._scope = scope
        self._factory = app_factory
        self._app: Any = None
        self._lock = threading.Lock()

    def _new_app(self) -> Any:
        if self._factory is not None:
            return self._factory()
        import msal

        if self._authority == ENTRA_AUTHORITY:
            return msal.ConfidentialClientApplication(
                self._client_id, authority=f"{ENTRA_AUTHORITY}/{self._tenant_id}", client_credential=self._client_secret, http_client=_session(self._verify)
            )
        # a national cloud or a test's own token server: not in Microsoft's instance list
        return msal.ConfidentialClientApplication(
            self._client_id,
            authority=f"{self._authority}/{self._tenant_id}",
            client_credential=self._client_secret,
            validate_authority=False,
            instance_discovery=False,
            http_client=_session(self._verify),
        )

    def token(self, *, refresh: bool = False) -> str:
        with self._lock:
            try:
                if self._app is None or refresh:
                    self._app = self._new_app()  # MSAL reads the authority's OpenID configuration here
                result = self._app.acquire_token_for_client(scopes=[self._scope])
            except ValueError as exc:  # MSAL: the authority's OpenID configuration answered 4xx (an unknown tenant)
                raise AuthenticationFailed(f"Entra ID does not know this tenant or authority: {str(exc).splitlines()[0][:200]}") from exc
            except Exception as exc:  # network errors from requests/msal
                raise MailboxUnavailable(f"cannot reach Entra ID for a token: {type(exc).__name__}") from exc
        if "access_token" not in result:
            error = result.get("error", "unknown_error")
            description = str(result.get("error_description", "")).splitlines()[0:1]
            raise AuthenticationFailed(f"Entra ID refused the token request: {error} {' '.join(description)}".strip())
        return str(result["access_token"])


def _session(verify: str | bool) -> Any:
    """A requests session for MSAL that trusts ``verify`` (a CA file, or True: the system's).

    requests lets ``REQUESTS_CA_BUNDLE`` override a session's own ``verify``,
    so the CA file is set on every request instead; proxies still come from
    the environment. Every request has a timeout.
    """
    import requests

    class Session(requests.Session):
        def request(self, *args: Any, **kwargs: Any) -> Any:
            if verify is not True:
                kwargs["verify"] = verify
            kwargs.setdefault("timeout", TOKEN_TIMEOUT)
            return super().request(*args, **kwargs)

    return Session()
