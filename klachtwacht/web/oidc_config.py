"""``[web.oidc]``: the optional OpenID Connect sign-in with Entra ID, read into :class:`OidcConfig`.

::

    [web.oidc]
    tenant_id = "9c1f0e2a-5b7d-4c3e-8a1f-2d4b6e8f0a1c"     # the municipality's directory (tenant) id
    client_id = "0f3e...-..."                              # the app registration's application id
    client_secret_env = "KLACHTWACHT_OIDC_SECRET"          # or client_secret_file; never inline
    redirect_url = "https://klachtwacht.gemeente.nl/inloggen/oidc/terug"
    # issuer = "https://login.microsoftonline.com/<tenant_id>/v2.0"   (the default)
    # allowed_tenants = ["<tenant_id>"]                                (the default)
    # scopes = ["openid", "profile", "email"]                          (the default)
    # enabled = true

Only a tenant-specific issuer is accepted: ``common``, ``organizations`` and ``consumers`` are no
tenant, and the ``{tenantid}`` template of Entra's multi-tenant discovery is refused, because with
them any Entra tenant in the world could sign in.

This module imports nothing heavy and nothing of :mod:`klachtwacht.config` at import time, so
``klachtwacht/config.py`` may import it at its top.
"""

from __future__ import annotations

import ipaddress
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from klachtwacht.errors import ConfigError

if TYPE_CHECKING:
    from klachtwacht.config import Secret

__all__ = ["OidcConfig", "oidc_config_from", "ENTRA_AUTHORITY", "CALLBACK_PATH", "START_PATH", "DEFAULT_SCOPES"]

ENTRA_AUTHORITY = "https://login.microsoftonline.com"
#: Where the app's sign-in with the organisation starts, and where the provider sends the browser back.
START_PATH = "/inloggen/oidc"
CALLBACK_PATH = "/inloggen/oidc/terug"
DEFAULT_SCOPES = ("openid", "profile", "email")
#: Entra's names that stand for many tenants, never for one.
NOT_A_TENANT = ("common", "organizations", "consumers")
_KEYS = ("enabled", "tenant_id", "issuer", "client_id", "client_secret", "client_secret_env", "client_secret_file",
         "redirect_url", "allowed_tenants", "scopes")


@dataclass(frozen=True)
class OidcConfig:
    """Everything the sign-in with the organisation's identity provider needs; the secret never shows in a repr."""

    tenant_id: str
    client_id: str
    client_secret: Secret
    redirect_url: str
    #: The tenant-specific issuer; an ID token's ``iss`` must equal it exactly.
    issuer: str
    allowed_tenants: frozenset[str]
    scopes: tuple[str, ...] = DEFAULT_SCOPES

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    @property
    def secure_cookies(self) -> bool:
        """True when the app is reached over https (the flow cookie is then ``Secure``)."""
        return urlsplit(self.redirect_url).scheme == "https"


def oidc_config_from(
    table: Mapping[str, Any] | None,
    *,
    path: str = "klachtwacht.toml",
    key: str = "web.oidc",
    env: Mapping[str, str] | None = None,
    secrets: bool = True,
) -> OidcConfig | None:
    """Validate the ``[web.oidc]`` table; None when it is absent or ``enabled = false``.

    ``path`` names the file in a :class:`ConfigError`, ``env`` is where ``client_secret_env`` is looked
    up (default ``os.environ``); with ``secrets=False`` an unreadable secret becomes an
    :class:`~klachtwacht.config.UnloadedSecret` (as :func:`klachtwacht.config.load_config` does).
    """
    if table is None:
        return None

    def fail(name: str, problem: str) -> ConfigError:
        return ConfigError(path, f"{key}.{name}" if name else key, problem)

    if not isinstance(table, Mapping):
        raise fail("", "must be a table")
    for name in table:
        if name not in _KEYS:
            raise fail(name, f"unknown key (allowed: {', '.join(k for k in _KEYS if k != 'client_secret')})")
    enabled = table.get("enabled", True)
    if not isinstance(enabled, bool):
        raise fail("enabled", f"must be a boolean (true or false), not {enabled!r}")
    if not enabled:
        return None

    def text(name: str, default: str | None = None) -> str:
        if name not in table:
            if default is None:
                raise fail(name, "is required")
            return default
        value = table[name]
        if not isinstance(value, str) or not value.strip():
            raise fail(name, f"must be a non-empty string, not {value!r}")
        return value.strip()

    def tenant(value: object, name: str) -> str:
        if isinstance(value, str) and value.strip().lower() in NOT_A_TENANT:
            raise fail(name, f"{value!r} is not a tenant: give the directory (tenant) id of the organisation, a GUID")
        try:
            if isinstance(value, str):
                return str(uuid.UUID(value.strip()))
        except ValueError:
            pass
        raise fail(name, f"must be a tenant id, a GUID such as 9c1f0e2a-5b7d-4c3e-8a1f-2d4b6e8f0a1c, not {value!r}")

    tenant_id = tenant(text("tenant_id"), "tenant_id")
    issuer = text("issuer", f"{ENTRA_AUTHORITY}/{tenant_id}/v2.0").rstrip("/")
    _check_url(issuer, "issuer", fail)
    if "{" in issuer or "}" in issuer:
        raise fail("issuer", "must be the tenant-specific issuer, not the {tenantid} template of multi-tenant discovery")
    segments = [s.lower() for s in urlsplit(issuer).path.split("/") if s]
    if any(s in NOT_A_TENANT for s in segments) or tenant_id not in segments:
        raise fail("issuer", f"must be the tenant-specific issuer with tenant_id in its path, such as {ENTRA_AUTHORITY}/{tenant_id}/v2.0")

    redirect_url = text("redirect_url")
    _check_url(redirect_url, "redirect_url", fail)
    if not urlsplit(redirect_url).path.endswith(CALLBACK_PATH):
        raise fail("redirect_url", f"must end with {CALLBACK_PATH}, the path the app answers the provider on")

    allowed: frozenset[str] = frozenset({tenant_id})
    if "allowed_tenants" in table:
        values = table["allowed_tenants"]
        if not isinstance(values, list) or not values:
            raise fail("allowed_tenants", "must be a non-empty list of tenant ids")
        allowed = frozenset(tenant(v, f"allowed_tenants[{i}]") for i, v in enumerate(values))
        if tenant_id not in allowed:
            raise fail("allowed_tenants", f"must include tenant_id ({tenant_id}): the issuer's own tenant is the one that signs in")

    scopes = DEFAULT_SCOPES
    if "scopes" in table:
        values = table["scopes"]
        if not isinstance(values, list) or not all(isinstance(v, str) and v and " " not in v for v in values):
            raise fail("scopes", "must be a list of scope names without spaces")
        if "openid" not in values:
            raise fail("scopes", "must include 'openid'")
        scopes = tuple(dict.fromkeys(values))

    return OidcConfig(
        tenant_id=tenant_id,
        client_id=text("client_id"),
        client_secret=_secret(table, fail, os.environ if env is None else env, secrets),
        redirect_url=redirect_url,
        issuer=issuer,
        allowed_tenants=allowed,
        scopes=scopes,
    )


def _check_url(url: str, name: str, fail: Any) -> None:
    """An absolute https URL without query or fragment; plain http only to this machine (tests, demo)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        raise fail(name, f"must be an absolute https:// URL without query or fragment, not {url!r}")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise fail(name, f"must use https:// (plain http only to 127.0.0.1 or localhost), not {url!r}")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _secret(table: Mapping[str, Any], fail: Any, env: Mapping[str, str], secrets: bool) -> Secret:
    """``client_secret_env`` or ``client_secret_file``, as every secret of the configuration."""
    from klachtwacht.config import Secret, UnloadedSecret

    if "client_secret" in table:
        raise fail("client_secret", "secrets are never inline: use client_secret_env or client_secret_file")
    has_env, has_file = "client_secret_env" in table, "client_secret_file" in table
    if has_env and has_file:
        raise fail("client_secret_env", "give client_secret_env or client_secret_file, not both")
    if not (has_env or has_file):
        raise fail("client_secret_env", "is required (or client_secret_file): the app registration's client secret")
    name = "client_secret_env" if has_env else "client_secret_file"
    where = table[name]
    if not isinstance(where, str) or not where:
        raise fail(name, f"must be a non-empty string, not {where!r}")
    error: ConfigError | None = None
    value = ""
    if has_env:
        if where in env and env[where]:
            value = env[where]
        else:
            error = fail(name, f"environment variable {where} is not set")
    else:
        try:
            value = Path(where).read_text(encoding="utf-8").strip()
        except OSError as exc:
            error = fail(name, f"cannot read {where}: {exc.strerror}")
        if error is None and not value:
            error = fail(name, f"{where} is empty")
    if error is not None:
        if secrets:
            raise error
        return UnloadedSecret(error)
    return Secret(value)
