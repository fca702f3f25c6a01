"""The ZGW register against a Zaken and Documenten API that validates every exchange with the published specifications."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import jwt
import pytest
import requests
from support.zgw_server import TEST_CLIENT_ID, TEST_SECRET, ZgwServer

from klachtwacht.config import OrganisationConfig
from klachtwacht.errors import ConfigError, KlachtwachtError, RegisterUnavailable, RetryableError
from klachtwacht.register.base import RegisterRequest
from klachtwacht.register.zgw import ZgwRegister, valid_rsin
from rules.deadlines import complaint_terms

SECRET_ENV = "KW_ZGW_SECRET"
ENV = {SECRET_ENV: TEST_SECRET}
SENDER = "jan.jansen@example.nl"
RAW = (
    "From: Jan Jansen <%s>\r\nTo: wethouder.devries@gemeente-veenstad.nl\r\n"
    "Subject: Klacht over de afvalinzameling\r\nMessage-ID: <klacht-42@example.nl>\r\n"
    "Date: Mon, 16 Mar 2026 00:20:00 +0100\r\n\r\n"
    "Geachte wethouder,\r\n\r\nAl drie weken is mijn container niet geleegd. Ik dien hierbij een klacht in.\r\n" % SENDER
).encode("utf-8")


def complaint(number: str = "KL-2026-000042", **changes: Any) -> RegisterRequest:
    """A complaint received just after midnight, Amsterdam time, on Monday 16 March 2026."""
    received_at = changes.pop("received_at", datetime(2026, 3, 15, 23, 30, tzinfo=timezone.utc))
    values: dict[str, Any] = {
        "message_pk": 42,
        "number": number,
        "organisation": OrganisationConfig(name="veenstad", display_name="Gemeente Veenstad"),
        "received_at": received_at,
        "terms": complaint_terms(received_at),
        "subject": "Klacht over de afvalinzameling",
        "sender_address": SENDER,
        "sender_name": "Jan Jansen",
        "message_id": "<klacht-42@example.nl>",
        "mailboxes": ("wethouder-devries",),
        "raw": RAW,
    }
    values.update(changes)
    return RegisterRequest(**values)


@pytest.fixture
def server() -> Iterator[ZgwServer]:
    """A fresh server per test; a response of ours that breaks the specification fails the test."""
    with ZgwServer() as zgw:
        yield zgw
        assert zgw.spec_violations == [], "the test server answered outside the specification"


def make_register(server: ZgwServer, **extra: Any) -> ZgwRegister:
    return ZgwRegister.from_options(server.register_options(SECRET_ENV, **extra), "klachtwacht.toml", env=ENV)


@pytest.fixture
def register(server: ZgwServer) -> ZgwRegister:
    return make_register(server)


def test_a_complaint_becomes_a_zaak_with_the_eml_document_and_the_sender_rol(server: ZgwServer, register: ZgwRegister) -> None:
    url = register.create(complaint())

    assert server.rejected == []
    [zaak] = server.zaken.values()
    assert url == zaak["url"]
    assert zaak["identificatie"] == "KL-2026-000042"
    assert zaak["bronorganisatie"] == "002220647"
    assert zaak["verantwoordelijkeOrganisatie"] == "517439943"
    assert zaak["zaaktype"] == server.catalogue("zaaktypen")
    assert zaak["omschrijving"] == "Klacht over de afvalinzameling"
    assert zaak["vertrouwelijkheidaanduiding"] == "vertrouwelijk"
    assert zaak["kenmerken"] == [{"kenmerk": "klacht-42@example.nl", "bron": "klachtwacht"}]
    assert "communicatiekanaal" not in zaak
    [document] = server.documents.values()
    assert server.contents[document["url"]] == RAW
    assert document["formaat"] == "message/rfc822"
    assert document["bestandsnaam"] == "KL-2026-000042.eml"
    assert document["auteur"] == "klachtwacht"
    assert document["informatieobjecttype"] == server.catalogue("informatieobjecttypen")
    assert document["vertrouwelijkheidaanduiding"] == "vertrouwelijk"
    [link] = server.links.values()
    assert (link["zaak"], link["informatieobject"]) == (url, document["url"])
    [rol] = server.rollen.values()
    assert rol["zaak"] == url
    assert rol["betrokkeneType"] == "natuurlijk_persoon"
    assert rol["roltype"] == server.catalogue("roltypen")
    assert rol["roltoelichting"] == "indiener klacht"
    assert rol["contactpersoonRol"] == {"emailadres": SENDER, "naam": "Jan Jansen"}
    assert server.statussen == {}
    assert [(r.method, r.resource) for r in server.posts()] == [
        ("POST", "zaken"), ("POST", "enkelvoudiginformatieobjecten"), ("POST", "zaakinformatieobjecten"), ("POST", "rollen"),
    ]


def test_the_deadline_is_set_as_uiterlijke_einddatum_afdoening(server: ZgwServer, register: ZgwRegister) -> None:
    # Received on 16 March 2026 (Amsterdam); six weeks later is Koningsdag, so the term rolls to the 28th.
    register.create(complaint())

    [zaak] = server.zaken.values()
    assert zaak["startdatum"] == "2026-03-16"
    assert zaak["uiterlijkeEinddatumAfdoening"] == "2026-04-28"
    [document] = server.documents.values()
    assert document["creatiedatum"] == document["ontvangstdatum"] == "2026-03-16"


def test_every_request_carries_a_valid_jwt_and_crs_headers(server: ZgwServer) -> None:
    register = make_register(server, statustype=server.catalogue("statustypen"))
    register.create(complaint())
    register.find(complaint())

    assert server.rejected == []
    assert {r.resource for r in server.requests} == {
        "zaken", "enkelvoudiginformatieobjecten", "zaakinformatieobjecten", "rollen", "statussen",
    }
    for recorded in server.requests:
        scheme, _, token = recorded.headers["Authorization"].partition(" ")
        claims = jwt.decode(token, TEST_SECRET, algorithms=["HS256"])
        assert scheme == "Bearer"
        assert recorded.claims == claims
        assert claims["iss"] == claims["client_id"] == server.client_id
        assert claims["user_id"] == claims["user_representation"] == "klachtwacht"
        assert claims["exp"] - claims["iat"] == 3600
        assert jwt.get_unverified_header(token)["alg"] == "HS256"
        if recorded.path.startswith("/zaken/"):
            assert recorded.headers["Accept-Crs"] == recorded.headers["Content-Crs"] == "EPSG:4326"


def test_a_request_with_a_token_of_the_wrong_secret_is_refused_not_retried(server: ZgwServer) -> None:
    wrong = {SECRET_ENV: "a-wrong-secret-of-thirty-two-bytes!"}
    register = ZgwRegister.from_options(server.register_options(SECRET_ENV), "klachtwacht.toml", env=wrong)

    with pytest.raises(KlachtwachtError) as caught:
        register.create(complaint())

    assert not isinstance(caught.value, RetryableError)
    assert "403" in str(caught.value)
    assert server.zaken == {}


def test_find_returns_the_existing_zaak_so_a_retry_creates_no_second_one(server: ZgwServer, register: ZgwRegister) -> None:
    assert register.find(complaint()) is None
    url = register.create(complaint())

    assert register.find(complaint()) == url
    assert register.create(complaint()) == url
    assert len(server.posts()) == 4
    assert (len(server.zaken), len(server.documents), len(server.links), len(server.rollen)) == (1, 1, 1, 1)
    assert register.find(complaint("KL-2026-000043")) is None


def test_a_crash_after_the_zaak_completes_the_same_zaak_on_retry(server: ZgwServer, register: ZgwRegister) -> None:
    server.crash_after.add("zaken")
    with pytest.raises(RegisterUnavailable):
        register.create(complaint())
    assert len(server.zaken) == 1 and server.documents == {}

    assert register.find(complaint()) is None, "a half-made zaak is not a registration"
    url = register.create(complaint())

    [zaak] = server.zaken.values()
    assert url == zaak["url"]
    assert (len(server.documents), len(server.links), len(server.rollen)) == (1, 1, 1)
    assert len(server.posts("zaken")) == 1
    assert register.find(complaint()) == url


def test_a_crash_after_the_document_reuses_the_document_on_retry(server: ZgwServer, register: ZgwRegister) -> None:
    server.crash_after.add("enkelvoudiginformatieobjecten")
    with pytest.raises(RegisterUnavailable):
        register.create(complaint())

    url = register.create(complaint())

    assert (len(server.zaken), len(server.documents), len(server.links), len(server.rollen)) == (1, 1, 1, 1)
    [link] = server.links.values()
    assert link["zaak"] == url


def test_a_crash_after_the_rol_sets_the_missing_status_on_retry(server: ZgwServer) -> None:
    register = make_register(server, statustype=server.catalogue("statustypen"))
    server.crash_after.add("rollen")
    with pytest.raises(RegisterUnavailable):
        register.create(complaint())

    url = register.create(complaint())

    assert (len(server.zaken), len(server.links), len(server.rollen), len(server.statussen)) == (1, 1, 1, 1)
    [status] = server.statussen.values()
    assert (status["zaak"], status["statustype"]) == (url, server.catalogue("statustypen"))
    assert datetime.fromisoformat(status["datumStatusGezet"]).tzinfo is not None


class RacingSession(requests.Session):
    """Lets another worker register the same complaint just before our first POST of ``resource``."""

    def __init__(self, other: ZgwRegister, resource: str) -> None:
        super().__init__()
        self.other, self.resource, self.raced = other, resource, False

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if method == "POST" and str(url).endswith("/" + self.resource) and not self.raced:
            self.raced = True
            self.other.create(complaint())
        return super().request(str(method), url, *args, **kwargs)


@pytest.mark.parametrize("resource", ["zaken", "enkelvoudiginformatieobjecten", "zaakinformatieobjecten"])
def test_two_workers_racing_for_the_same_complaint_make_one_zaak(server: ZgwServer, resource: str) -> None:
    register = ZgwRegister(make_register(server).options, session=RacingSession(make_register(server), resource))

    url = register.create(complaint())

    assert [z["url"] for z in server.zaken.values()] == [url]
    assert (len(server.documents), len(server.links), len(server.rollen)) == (1, 1, 1)
    [refusal] = server.rejected
    assert ("identificatie-niet-uniek" if resource != "zaakinformatieobjecten" else "unique") in refusal


def test_register_down_raises_register_unavailable(server: ZgwServer, register: ZgwRegister) -> None:
    server.fail_with(503, retry_after=120)
    with pytest.raises(RegisterUnavailable) as caught:
        register.create(complaint())
    assert caught.value.retry_after == 120

    server.fail_with(429, retry_after=7)
    with pytest.raises(RegisterUnavailable) as caught:
        register.find(complaint())
    assert caught.value.retry_after == 7

    server.recover()
    server.drop_connections = True
    with pytest.raises(RegisterUnavailable):
        register.create(complaint())

    server.recover()
    server.delay = 1.5
    slow = make_register(server, timeout=0.5)
    with pytest.raises(RegisterUnavailable, match="did not answer"):
        slow.find(complaint())

    server.recover()
    assert register.create(complaint()).startswith(server.zaken_url)


def test_a_register_that_refuses_connections_raises_register_unavailable(server: ZgwServer, register: ZgwRegister) -> None:
    server.stop()
    with pytest.raises(RegisterUnavailable, match="cannot be reached"):
        register.create(complaint())


def test_a_refusal_is_a_readable_error_that_is_not_retried(server: ZgwServer) -> None:
    register = make_register(server, zaaktype=server.base_url + "/catalogi/api/v1/zaaktypen/onbekend")

    with pytest.raises(KlachtwachtError) as caught:
        register.create(complaint())

    assert not isinstance(caught.value, RetryableError)
    assert "zaaktype: bad-url" in str(caught.value)


def test_a_refusal_never_quotes_the_sender_address(server: ZgwServer) -> None:
    class Refusing(requests.Session):
        def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
            response = requests.Response()
            response.status_code, response.reason = 400, "Bad Request"
            response.headers["Content-Type"] = "application/problem+json"
            invalid = [{"name": "contactpersoonRol.emailadres", "code": "invalid", "reason": "'%s' is ongeldig." % SENDER}]
            response._content = json.dumps({"code": "invalid", "title": "Invalid input.", "invalidParams": invalid}).encode()
            return response

    register = ZgwRegister(make_register(server).options, session=Refusing())

    with pytest.raises(KlachtwachtError) as caught:
        register.create(complaint())

    assert "contactpersoonRol.emailadres: invalid" in str(caught.value)
    assert SENDER not in str(caught.value)


def test_a_long_subject_and_message_id_are_cut_to_the_specification(server: ZgwServer, register: ZgwRegister) -> None:
    long = complaint(subject="Klacht " + "heel erg lang " * 20, message_id="<%s@mail.example.nl>" % ("x" * 60), sender_name="")

    register.create(long)

    assert server.rejected == []
    [zaak] = server.zaken.values()
    assert len(zaak["omschrijving"]) == 80
    [kenmerk] = zaak["kenmerken"]
    assert kenmerk["kenmerk"].startswith("sha256:") and len(kenmerk["kenmerk"]) == 40
    [rol] = server.rollen.values()
    assert rol["contactpersoonRol"]["naam"] == SENDER


def test_the_secret_the_message_and_the_sender_never_reach_the_log(
    server: ZgwServer, register: ZgwRegister, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    register.create(complaint())
    server.fail_with(503)
    with pytest.raises(RegisterUnavailable):
        register.create(complaint("KL-2026-000043"))

    for secret in (TEST_SECRET, SENDER, "container niet geleegd", base64.b64encode(RAW).decode()[:40]):
        assert secret not in caplog.text
    assert TEST_SECRET not in repr(register)


def token(**changes: Any) -> str:
    """A token the test server accepts, with ``changes`` to its claims (None drops a claim)."""
    now = int(time.time())
    claims = {"iss": TEST_CLIENT_ID, "client_id": TEST_CLIENT_ID, "iat": now, "exp": now + 60, "user_id": "t", "user_representation": "t"}
    claims.update(changes)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, TEST_SECRET, algorithm="HS256")


GOOD_ZAAK = {"bronorganisatie": "002220647", "verantwoordelijkeOrganisatie": "002220647", "startdatum": "2026-03-16"}
CRS = {"Accept-Crs": "EPSG:4326", "Content-Crs": "EPSG:4326"}


@pytest.mark.parametrize(
    ("body", "headers", "status", "names"),
    [
        ({}, {}, 201, None),
        ({}, {"Accept-Crs": None}, 400, ["Accept-Crs"]),
        ({"zaaktype": None}, {}, 400, ["zaaktype"]),
        ({"omschrijving": "x" * 81}, {}, 400, ["omschrijving"]),
        ({"startdatum": "16-03-2026"}, {}, 400, ["startdatum"]),
        ({"kenmerken": [{"kenmerk": "x"}]}, {}, 400, ["kenmerken.0.bron"]),
        ({"uiterlijkeEinddatumAfdoeningen": "2026-04-28"}, {}, 400, ["uiterlijkeEinddatumAfdoeningen"]),
        ({}, {"Authorization": None}, 403, None),
        ({}, {"Authorization": "Bearer " + token(user_id=None)}, 403, None),
        ({}, {"Authorization": "Bearer " + token(exp=1)}, 403, None),
        ({}, {"Authorization": "Bearer " + token(client_id="someone-else")}, 403, None),
    ],
)
def test_the_server_holds_requests_to_the_specification(
    server: ZgwServer, body: dict[str, Any], headers: dict[str, Any], status: int, names: list[str] | None
) -> None:
    """Guards the contract tests: a request that breaks the specification is refused, not accepted."""
    zaak = {**GOOD_ZAAK, "zaaktype": server.catalogue("zaaktypen"), **body}
    sent = {"Authorization": "Bearer " + token(), **CRS, **headers}

    answer = requests.post(
        server.zaken_url + "/zaken", timeout=5,
        json={k: v for k, v in zaak.items() if v is not None}, headers={k: v for k, v in sent.items() if v is not None},
    )

    assert answer.status_code == status, answer.text
    if names is not None:
        assert [p["name"] for p in answer.json()["invalidParams"]] == names


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"zaken_url": None}, "register.zaken_url"),
        ({"documenten_url": "ftp://documenten.example.nl"}, "register.documenten_url"),
        ({"zaaktype": "zaaktypen/1"}, "register.zaaktype"),
        ({"client_id": ""}, "register.client_id"),
        ({"bronorganisatie": "123456789"}, "register.bronorganisatie"),
        ({"verantwoordelijke_organisatie": "00222064"}, "register.verantwoordelijke_organisatie"),
        ({"vertrouwelijkheidaanduiding": "strikt"}, "register.vertrouwelijkheidaanduiding"),
        ({"timeout": 0}, "register.timeout"),
        ({"timeout": "30"}, "register.timeout"),
        ({"secret_env": "KW_NOT_SET"}, "register.secret_env"),
        ({"secret_env": None}, "register.secret_env"),
        ({"secret_file": "/nonexistent/zgw-secret"}, "register.secret_env"),  # both given
        ({"secret_env": None, "secret_file": "/nonexistent/zgw-secret"}, "register.secret_file"),
        ({"secret": "inline"}, "register.secret"),
        ({"zaak_type": "https://x"}, "register.zaak_type"),
    ],
)
def test_wrong_options_name_the_key(server: ZgwServer, change: dict[str, Any], key: str) -> None:
    options = server.register_options(SECRET_ENV)
    for name, value in change.items():
        if value is None:
            options.pop(name)
        else:
            options[name] = value

    with pytest.raises(ConfigError) as caught:
        ZgwRegister.from_options(options, "klachtwacht.toml", env=ENV)

    assert caught.value.path == "klachtwacht.toml"
    assert caught.value.key == key


def test_the_secret_can_come_from_a_file(server: ZgwServer, tmp_path: Any) -> None:
    secret_file = tmp_path / "zgw-secret"
    secret_file.write_text(TEST_SECRET + "\n", encoding="utf-8")
    options = server.register_options(SECRET_ENV)
    del options["secret_env"]
    options["secret_file"] = str(secret_file)

    register = ZgwRegister.from_options(options, "klachtwacht.toml", env={})

    assert register.create(complaint()).startswith(server.zaken_url)


def test_rsins_are_checked_with_the_11_proef() -> None:
    assert valid_rsin("002220647") and valid_rsin("517439943")
    assert not valid_rsin("002220648") and not valid_rsin("12345678") and not valid_rsin("00222064a")
