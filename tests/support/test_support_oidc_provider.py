"""The OpenID provider of the tests is never silently missing in CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import oidc_provider
from support.oidc_provider import OidcProvider


def test_a_missing_node_fails_in_ci_and_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="node is not installed"):
        OidcProvider("http://127.0.0.1:1/inloggen/oidc/terug", {}).start()
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="node is not installed"):
        OidcProvider("http://127.0.0.1:1/inloggen/oidc/terug", {}).start()


def test_an_uninstalled_oidc_provider_package_fails_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(oidc_provider, "PROVIDER_DIR", tmp_path)
    monkeypatch.setattr(oidc_provider.shutil, "which", lambda name: "/usr/bin/node")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="npm ci --prefix tests/support/oidc"):
        OidcProvider("http://127.0.0.1:1/inloggen/oidc/terug", {}).start()
