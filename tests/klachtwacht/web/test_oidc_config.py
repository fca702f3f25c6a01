"""The ``[web.oidc]`` section: a tenant-specific issuer only, secrets never inline, every error names its key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from klachtwacht.config import Secret, UnloadedSecret
from klachtwacht.errors import ConfigError
from klachtwacht.web.oidc_config import OidcConfig, oidc_config_from

TID = "9c1f0e2a-5b7d-4c3e-8a1f-2d4b6e8f0a1c"
OTHER = "1b2c3d4e-5f60-4718-9a0b-1c2d3e4f5a6b"
ENV = {"KW_OIDC": "het-geheim"}


def table(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"tenant_id": TID, "client_id": "app-id", "client_secret_env": "KW_OIDC",
                            "redirect_url": "https://klachtwacht.gemeente.example/inloggen/oidc/terug"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def error(data: dict[str, Any], **kwargs: Any) -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        oidc_config_from(data, path="kw.toml", env=ENV, **kwargs)
    assert raised.value.path == "kw.toml"
    return raised.value


def test_a_minimal_section_signs_in_at_the_tenants_entra_issuer() -> None:
    config = oidc_config_from(table(tenant_id=TID.upper()), env=ENV)
    assert config == OidcConfig(
        tenant_id=TID, client_id="app-id", client_secret=Secret("het-geheim"),
        redirect_url="https://klachtwacht.gemeente.example/inloggen/oidc/terug",
        issuer=f"https://login.microsoftonline.com/{TID}/v2.0", allowed_tenants=frozenset({TID}),
        scopes=("openid", "profile", "email"),
    )
    assert config.discovery_url == f"https://login.microsoftonline.com/{TID}/v2.0/.well-known/openid-configuration"
    assert config.secure_cookies
    assert "het-geheim" not in repr(config)


def test_no_section_or_a_disabled_one_means_no_sign_in_with_the_organisation() -> None:
    assert oidc_config_from(None) is None
    assert oidc_config_from({"enabled": False, "tenant_id": "whatever"}) is None


@pytest.mark.parametrize("name", ["common", "organizations", "consumers", "Common"])
def test_a_multi_tenant_endpoint_is_not_a_tenant(name: str) -> None:
    exc = error(table(tenant_id=name))
    assert exc.key == "web.oidc.tenant_id" and "not a tenant" in exc.problem


def test_an_issuer_that_is_not_the_tenants_own_is_refused() -> None:
    for issuer in ("https://login.microsoftonline.com/common/v2.0", "https://login.microsoftonline.com/{tenantid}/v2.0",
                   f"https://login.microsoftonline.com/{OTHER}/v2.0", f"http://login.microsoftonline.com/{TID}/v2.0",
                   f"https://login.microsoftonline.com/{TID}/v2.0?x=1"):
        assert error(table(issuer=issuer)).key == "web.oidc.issuer", issuer


def test_an_issuer_on_this_machine_may_use_plain_http() -> None:
    config = oidc_config_from(table(issuer=f"http://127.0.0.1:8123/{TID}/v2.0/", redirect_url="http://localhost:8000/inloggen/oidc/terug"), env=ENV)
    assert config is not None
    assert config.issuer == f"http://127.0.0.1:8123/{TID}/v2.0"
    assert not config.secure_cookies


def test_the_redirect_url_must_be_the_apps_callback() -> None:
    assert error(table(redirect_url="https://klachtwacht.gemeente.example/login")).key == "web.oidc.redirect_url"
    assert error(table(redirect_url="http://klachtwacht.gemeente.example/inloggen/oidc/terug")).key == "web.oidc.redirect_url"
    assert error(table(redirect_url=None)).problem == "is required"


def test_allowed_tenants_are_tenant_ids_and_include_the_issuers_tenant() -> None:
    config = oidc_config_from(table(allowed_tenants=[TID, OTHER.upper()]), env=ENV)
    assert config is not None and config.allowed_tenants == frozenset({TID, OTHER})
    assert error(table(allowed_tenants=[OTHER])).key == "web.oidc.allowed_tenants"
    assert error(table(allowed_tenants=[TID, "organizations"])).key == "web.oidc.allowed_tenants[1]"
    assert error(table(allowed_tenants=[])).key == "web.oidc.allowed_tenants"


def test_scopes_must_include_openid() -> None:
    config = oidc_config_from(table(scopes=["openid", "profile"]), env=ENV)
    assert config is not None and config.scopes == ("openid", "profile")
    assert error(table(scopes=["profile"])).key == "web.oidc.scopes"
    assert error(table(scopes="openid profile")).key == "web.oidc.scopes"


def test_the_client_secret_is_never_inline_and_comes_from_the_environment_or_a_file(tmp_path: Path) -> None:
    assert "never inline" in error(table(client_secret="geheim")).problem
    assert error(table(client_secret_env=None)).key == "web.oidc.client_secret_env"
    assert "KW_MISSING is not set" in error(table(client_secret_env="KW_MISSING")).problem
    secret_file = tmp_path / "oidc-secret"
    secret_file.write_text("uit-een-bestand\n", encoding="utf-8")
    config = oidc_config_from(table(client_secret_env=None, client_secret_file=str(secret_file)), env={})
    assert config is not None and config.client_secret.reveal() == "uit-een-bestand"
    assert "not both" in error(table(client_secret_file=str(secret_file))).problem


def test_without_secrets_a_missing_client_secret_fails_only_when_revealed() -> None:
    config = oidc_config_from(table(client_secret_env="KW_MISSING"), env={}, secrets=False)
    assert config is not None and isinstance(config.client_secret, UnloadedSecret)
    with pytest.raises(ConfigError, match="KW_MISSING is not set"):
        config.client_secret.reveal()


def test_an_unknown_or_mistyped_key_is_named() -> None:
    exc = error(table(tennant_id=TID))
    assert exc.key == "web.oidc.tennant_id" and "unknown key" in exc.problem
    assert error(table(client_id=42)).key == "web.oidc.client_id"
    assert error(table(enabled="ja")).key == "web.oidc.enabled"
    assert error(table(tenant_id=None)).key == "web.oidc.tenant_id"


def test_the_parser_imports_without_starlette_and_without_the_config_module() -> None:
    """So klachtwacht/config.py may import it at its top: no import cycle, nothing heavy."""
    code = "import sys, klachtwacht.web.oidc_config; print(sorted(m for m in ('klachtwacht.config', 'starlette', 'authlib', 'requests') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parents[3])
    assert out.stdout.strip() == "[]"
