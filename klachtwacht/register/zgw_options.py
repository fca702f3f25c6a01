"""The options of the ZGW register: the ``[register]`` table of the ``zgw`` backend, validated.

:func:`parse_options` turns the table into a frozen :class:`ZgwOptions` or
raises :class:`~klachtwacht.errors.ConfigError` naming ``register.<key>``:
unknown and missing keys, URLs, the RSINs (nine digits passing the 11-proef,
:func:`valid_rsin`), the confidentiality level, the time-out and the JWT
secret, which is read from ``secret_env`` or ``secret_file`` and never given
inline. Pure apart from reading that one file; used by
:mod:`klachtwacht.config` when the configuration is loaded and by
:class:`~klachtwacht.register.zgw.ZgwRegister`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from klachtwacht.config import Secret
from klachtwacht.errors import ConfigError

__all__ = ["ZgwOptions", "parse_options", "valid_rsin", "CONFIDENTIALITY", "DEFAULT_TIMEOUT"]

#: The values of ``vertrouwelijkheidaanduiding``, from open to closed.
CONFIDENTIALITY = (
    "openbaar", "beperkt_openbaar", "intern", "zaakvertrouwelijk",
    "vertrouwelijk", "confidentieel", "geheim", "zeer_geheim",
)
#: Seconds to wait for an API's answer when ``timeout`` is not given.
DEFAULT_TIMEOUT = 30.0

_URL_KEYS = ("zaken_url", "documenten_url", "zaaktype", "informatieobjecttype", "roltype", "statustype")
_KEYS = _URL_KEYS + (
    "client_id", "secret_env", "secret_file", "bronorganisatie", "verantwoordelijke_organisatie",
    "vertrouwelijkheidaanduiding", "timeout",
)
_REQUIRED = ("zaken_url", "documenten_url", "client_id", "zaaktype", "informatieobjecttype", "roltype", "bronorganisatie")


def valid_rsin(value: str) -> bool:
    """True when ``value`` is nine digits that pass the 11-proef (as an RSIN or BSN must)."""
    if len(value) != 9 or not value.isascii() or not value.isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:8], range(9, 1, -1)))
    return (total - int(value[8])) % 11 == 0


@dataclass(frozen=True)
class ZgwOptions:
    """The validated ``[register]`` table of the ``zgw`` backend.

    ``verantwoordelijke_organisatie`` defaults to ``bronorganisatie``;
    without ``statustype`` no status is set.
    """

    zaken_url: str
    documenten_url: str
    client_id: str
    secret: Secret
    zaaktype: str
    informatieobjecttype: str
    roltype: str
    bronorganisatie: str
    verantwoordelijke_organisatie: str
    statustype: str | None = None
    vertrouwelijkheidaanduiding: str = "vertrouwelijk"
    timeout: float = DEFAULT_TIMEOUT


def parse_options(options: Mapping[str, Any], path: str, env: Mapping[str, str]) -> ZgwOptions:
    """Validate the ``[register]`` table; a wrong value raises ConfigError naming ``register.<key>``."""

    def fail(key: str, problem: str) -> ConfigError:
        return ConfigError(path, "register." + key, problem)

    if "secret" in options:
        raise fail("secret", "secrets are never inline: use secret_env or secret_file")
    for key in options:
        if key not in _KEYS:
            raise fail(key, "unknown key for the zgw register (known: %s)" % ", ".join(sorted(_KEYS)))
    for key in _REQUIRED:
        if key not in options:
            raise fail(key, "is required for the zgw register")
    values: dict[str, str] = {}
    for key, value in options.items():
        if key != "timeout":
            if not isinstance(value, str) or not value.strip():
                raise fail(key, "must be a non-empty string")
            values[key] = value.strip()
    for key in _URL_KEYS:
        parts = urlsplit(values.get(key, "http://x"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise fail(key, "must be an http:// or https:// URL, not %r" % values[key])
    for key in ("bronorganisatie", "verantwoordelijke_organisatie"):
        if key in values and not valid_rsin(values[key]):
            raise fail(key, "must be an RSIN: nine digits that pass the 11-proef, not %r" % values[key])
    level = values.get("vertrouwelijkheidaanduiding", "vertrouwelijk")
    if level not in CONFIDENTIALITY:
        raise fail("vertrouwelijkheidaanduiding", "must be one of %s, not %r" % (", ".join(CONFIDENTIALITY), level))
    timeout = options.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise fail("timeout", "must be a number of seconds greater than zero")
    return ZgwOptions(
        zaken_url=values["zaken_url"].rstrip("/"),
        documenten_url=values["documenten_url"].rstrip("/"),
        client_id=values["client_id"],
        secret=_read_secret(values, fail, env),
        zaaktype=values["zaaktype"],
        informatieobjecttype=values["informatieobjecttype"],
        roltype=values["roltype"],
        statustype=values.get("statustype"),
        bronorganisatie=values["bronorganisatie"],
        verantwoordelijke_organisatie=values.get("verantwoordelijke_organisatie", values["bronorganisatie"]),
        vertrouwelijkheidaanduiding=level,
        timeout=float(timeout),
    )


def _read_secret(values: Mapping[str, str], fail: Callable[[str, str], ConfigError], env: Mapping[str, str]) -> Secret:
    if "secret_env" in values and "secret_file" in values:
        raise fail("secret_env", "give secret_env or secret_file, not both")
    if "secret_env" in values:
        value = env.get(values["secret_env"], "")
        if not value:
            raise fail("secret_env", "environment variable %s is not set or empty" % values["secret_env"])
        return Secret(value)
    if "secret_file" not in values:
        raise fail("secret_env", "the JWT secret is required (secret_env or secret_file)")
    try:
        value = Path(values["secret_file"]).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise fail("secret_file", "cannot read %s: %s" % (values["secret_file"], reason)) from exc
    if not value:
        raise fail("secret_file", "%s is empty" % values["secret_file"])
    return Secret(value)
