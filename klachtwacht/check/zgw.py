"""``klachtwacht check`` for the ZGW register: catalogue, zaaktype and a dry request to each API.

Only GET requests: the zaaktype (and its catalogue) as the Catalogi API
shows them, then a filtered list of zaken and of documents that must come
back empty, which proves the address, the token and the required headers.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from klachtwacht.check.result import FAIL, OK, CheckResult
from klachtwacht.config import Config
from klachtwacht.errors import KlachtwachtError

__all__ = ["check_zgw", "PROBE_IDENTIFICATION"]

#: An identificatie no zaak or document carries: the dry requests' filter.
PROBE_IDENTIFICATION = "KLACHTWACHT-CHECK-0"


def check_zgw(config: Config) -> list[CheckResult]:
    from klachtwacht.register.zgw import ZgwRegister, parse_options

    try:
        options = parse_options(config.register.options, config.path, _env())
    except KlachtwachtError as exc:
        return [CheckResult("register zgw", FAIL, f"configuration error: {exc}")]
    register = ZgwRegister(options)
    results = [_zaaktype(register)]
    for name, base, resource, params in (
        ("register zaken api", options.zaken_url, "zaken", {"identificatie": PROBE_IDENTIFICATION, "bronorganisatie": options.bronorganisatie}),
        ("register documenten api", options.documenten_url, "enkelvoudiginformatieobjecten", {"identificatie": PROBE_IDENTIFICATION}),
    ):
        started = time.monotonic()
        try:
            found = register._get(base, resource, params)  # noqa: SLF001 - the backend's own signed request
        except KlachtwachtError as exc:
            key = "register.zaken_url" if resource == "zaken" else "register.documenten_url"
            results.append(CheckResult(name, FAIL, f"{key}: {base}: {exc}; check {key}, the token (client_id, secret_env) and that the API runs"))
            continue
        results.append(CheckResult(name, OK, f"{base}: GET {resource} accepted (token, headers), {len(found)} found for the dry filter", time.monotonic() - started))
    return results


def _env() -> Any:
    import os

    return os.environ


def _zaaktype(register: Any) -> CheckResult:
    """The zaaktype exists, is published (not a concept), and belongs to a catalogue."""
    url = register.options.zaaktype
    started = time.monotonic()
    try:
        response = requests.get(url, headers={"Authorization": "Bearer " + register._token(), "Accept": "application/json"},  # noqa: SLF001
                                timeout=register.options.timeout)
    except requests.RequestException as exc:
        return CheckResult("register zaaktype", FAIL, f"register.zaaktype: the Catalogi API at {url} cannot be reached ({type(exc).__name__}); check the address")
    except KlachtwachtError as exc:
        return CheckResult("register zaaktype", FAIL, f"configuration error: {exc}")
    if response.status_code in (401, 403):
        return CheckResult("register zaaktype", FAIL, f"register.client_id: the Catalogi API refused our token ({response.status_code}); check client_id and secret_env")
    if response.status_code == 404:
        return CheckResult("register zaaktype", FAIL, f"register.zaaktype: {url} does not exist (404); copy the zaaktype's URL from the catalogue")
    if response.status_code != 200:
        return CheckResult("register zaaktype", FAIL, f"register.zaaktype: {url} answered {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        return CheckResult("register zaaktype", FAIL, f"register.zaaktype: {url} did not answer with JSON")
    if not isinstance(body, dict):
        return CheckResult("register zaaktype", FAIL, f"register.zaaktype: {url} answered with an unexpected document")
    if body.get("concept") is True:
        return CheckResult("register zaaktype", FAIL, f"register.zaaktype: {body.get('omschrijving', url)!r} is still a concept; publish it in the catalogue first")
    catalogue = body.get("catalogus") or "(no catalogue named)"
    return CheckResult("register zaaktype", OK, f"{body.get('omschrijving') or body.get('identificatie') or url}, published, in catalogue {catalogue}", time.monotonic() - started)
