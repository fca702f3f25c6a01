"""The test-support helpers do what the other tests rely on."""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage

import pytest
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from . import services
from .dovecot import Dovecot, DovecotError, make_token
from .smtp import SmtpSink
from .tcpproxy import TcpProxy

SECRET = "test-secret-for-dovecot-xoauth2-hs256"
USER, PASSWORD = "wethouder", "geheim"


def _mail(number: int, size: int = 0) -> bytes:
    body = "Geachte wethouder, klacht nummer %d.\r\n%s" % (number, "x" * size)
    return (
        "From: inwoner%d@example.nl\r\nTo: wethouder@gemeente.nl\r\n"
        "Subject: Klacht %d\r\nMessage-ID: <klacht-%d@example.nl>\r\n\r\n%s\r\n" % (number, number, number, body)
    ).encode("utf-8")


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot(oauth2_secret=SECRET)
    server.add_user(USER, PASSWORD)  # before start: no wait for the passwd-file re-read
    with server:
        yield server


def _connect(server: Dovecot | TcpProxy) -> IMAPClient:
    return IMAPClient(server.host, server.port, ssl=False, timeout=5)


# -- services ----------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_require_skips_locally_when_the_service_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Nothing is not reachable"):
        services.require("127.0.0.1", _closed_port(), "Nothing")


def test_require_fails_in_ci_when_the_service_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="Nothing is not reachable"):
        services.require("127.0.0.1", _closed_port(), "Nothing")


def test_require_binary_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception):
        services.require_binary("/nonexistent/dovecot", "Dovecot")
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception):
        services.require_binary("/nonexistent/dovecot", "Dovecot")


def test_require_returns_when_the_service_listens() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        services.require("127.0.0.1", listener.getsockname()[1], "A listener")


# -- Dovecot -------------------------------------------------------------------


@pytest.mark.dovecot
def test_appended_messages_read_back_readonly_leave_seen_unchanged(dovecot: Dovecot) -> None:
    when = datetime(2024, 3, 1, 9, 30)
    uids = [
        dovecot.append(USER, "INBOX", _mail(1)),
        dovecot.append(USER, "INBOX", _mail(2), flags=["\\Seen"]),
        dovecot.append(USER, "INBOX", _mail(3), msg_time=when),
    ]
    before = dovecot.flags(USER, "INBOX")
    assert before == {uids[0]: (), uids[1]: ("\\Seen",), uids[2]: ()}

    client = _connect(dovecot)
    client.login(USER, PASSWORD)
    client.select_folder("INBOX", readonly=True)
    fetched = client.fetch(client.search("ALL"), ["BODY.PEEK[]", "INTERNALDATE"])
    client.logout()

    assert [fetched[uid][b"BODY[]"] for uid in uids] == [_mail(1), _mail(2), _mail(3)]
    assert fetched[uids[2]][b"INTERNALDATE"].replace(tzinfo=None) == when
    assert dovecot.flags(USER, "INBOX") == before


@pytest.mark.dovecot
def test_append_creates_nested_folders_with_non_ascii_names(dovecot: Dovecot) -> None:
    dovecot.append(USER, "Klachten/Behandeld é", _mail(1))
    assert dovecot.folders(USER) == ["INBOX", "Klachten", "Klachten/Behandeld é"]
    dovecot.delete_folder(USER, "Klachten/Behandeld é")
    assert "Klachten/Behandeld é" not in dovecot.folders(USER)


@pytest.mark.dovecot
def test_recreate_folder_changes_uidvalidity(dovecot: Dovecot) -> None:
    dovecot.append(USER, "Klachten", _mail(1))
    old = dovecot.uidvalidity(USER, "Klachten")

    new = dovecot.recreate_folder(USER, "Klachten")

    assert new != old
    assert dovecot.uidvalidity(USER, "Klachten") == new
    assert dovecot.flags(USER, "Klachten") == {}


@pytest.mark.dovecot
def test_recreate_folder_can_keep_the_messages(dovecot: Dovecot) -> None:
    dovecot.append(USER, "Klachten", _mail(1), flags=["\\Seen"])
    dovecot.append(USER, "Klachten", _mail(2))
    old = dovecot.uidvalidity(USER, "Klachten")

    new = dovecot.recreate_folder(USER, "Klachten", keep_messages=True)

    assert new != old
    assert dovecot.flags(USER, "Klachten") == {1: ("\\Seen",), 2: ()}


@pytest.mark.dovecot
def test_fast_fill_writes_messages_dovecot_indexes(dovecot: Dovecot) -> None:
    assert dovecot.fast_fill(USER, "Archief", [_mail(n) for n in range(500)]) == 500
    assert dovecot.fast_fill(USER, "INBOX", [_mail(1)], flags=["\\Seen"]) == 1
    assert dovecot.fast_fill(USER, "Nieuw", [_mail(2)], into_new=True) == 1

    flags = dovecot.flags(USER, "Archief")
    assert len(flags) == 500
    assert set(flags.values()) == {()}
    assert list(dovecot.flags(USER, "INBOX").values()) == [("\\Seen",)]
    assert list(dovecot.flags(USER, "Nieuw").values()) == [()]
    with pytest.raises(ValueError):
        dovecot.fast_fill(USER, "INBOX", [_mail(1)], flags=["$Klacht"])


@pytest.mark.dovecot
def test_a_user_added_while_running_can_log_in_without_restart(dovecot: Dovecot) -> None:
    dovecot.add_user("raadslid", "eerste")
    dovecot.client("raadslid", "eerste").logout()
    dovecot.add_user("raadslid", "tweede")
    with pytest.raises(LoginError):
        dovecot.client("raadslid", "eerste")
    dovecot.client("raadslid", "tweede").logout()


@pytest.mark.dovecot
def test_xoauth2_login_with_a_good_token_works(dovecot: Dovecot) -> None:
    client = _connect(dovecot)
    client.oauth2_login(USER, make_token(USER, SECRET))
    assert client.select_folder("INBOX", readonly=True)[b"EXISTS"] == 0
    client.logout()


@pytest.mark.dovecot
@pytest.mark.parametrize(
    "token",
    [
        pytest.param(make_token(USER, "another-secret-of-32-bytes-or-more"), id="bad-signature"),
        pytest.param(make_token(USER, SECRET, expires_in=-60), id="expired"),
        pytest.param(make_token(USER, SECRET, sub=None), id="without-sub"),
        pytest.param(make_token("burgemeester", SECRET), id="other-user"),
    ],
)
def test_xoauth2_login_with_a_bad_token_fails(dovecot: Dovecot, token: str) -> None:
    client = _connect(dovecot)
    with pytest.raises(LoginError):
        client.oauth2_login(USER, token)
    client.shutdown()


@pytest.mark.dovecot
def test_dovecot_advertises_condstore_by_default(dovecot: Dovecot) -> None:
    client = dovecot.client(USER, PASSWORD)
    assert b"CONDSTORE" in client.capabilities()
    client.logout()


@pytest.mark.dovecot
def test_exchange_like_hides_condstore_and_qresync() -> None:
    server = Dovecot(exchange_like=True)
    server.add_user(USER, PASSWORD)
    with server:
        client = server.client(USER, PASSWORD)
        capabilities = client.capabilities()
        client.logout()
    assert b"CONDSTORE" not in capabilities
    assert b"QRESYNC" not in capabilities
    assert {b"IDLE", b"UIDPLUS", b"MOVE"} <= set(capabilities)


@pytest.mark.dovecot
def test_restart_keeps_port_and_data(dovecot: Dovecot) -> None:
    dovecot.append(USER, "INBOX", _mail(1))
    port = dovecot.port
    dovecot.restart()
    assert dovecot.port == port
    assert dovecot.flags(USER, "INBOX") == {1: ()}


@pytest.mark.dovecot
def test_kill_cuts_clients_and_start_recovers(dovecot: Dovecot) -> None:
    dovecot.append(USER, "INBOX", _mail(1))
    client = dovecot.client(USER, PASSWORD)
    client.select_folder("INBOX", readonly=True)

    dovecot.kill()

    assert not dovecot.running
    with pytest.raises((OSError, IMAPClient.Error, IMAPClient.AbortError)):
        client.noop()
    dovecot.start()
    assert dovecot.flags(USER, "INBOX") == {1: ()}


@pytest.mark.dovecot
def test_a_server_that_exits_at_start_raises_with_the_log() -> None:
    server = Dovecot(binary="/bin/false")
    try:
        with pytest.raises(DovecotError, match="exited with status 1"):
            server.start()
    finally:
        server.close()


@pytest.mark.dovecot
def test_close_removes_the_data_folder() -> None:
    server = Dovecot()
    server.start()
    base = server.base
    server.close()
    assert not server.running
    assert not base.exists()


# -- TcpProxy ------------------------------------------------------------------


@pytest.mark.dovecot
def test_proxy_cut_all_makes_the_next_imap_call_raise(dovecot: Dovecot) -> None:
    with TcpProxy(dovecot.host, dovecot.port) as proxy:
        client = _connect(proxy)
        client.login(USER, PASSWORD)
        client.select_folder("INBOX", readonly=True)
        assert proxy.active_connections == 1

        proxy.cut_all()

        assert proxy.active_connections == 0
        with pytest.raises((OSError, IMAPClient.Error, IMAPClient.AbortError)):
            client.noop()
        fresh = _connect(proxy)
        fresh.login(USER, PASSWORD)
        fresh.logout()


@pytest.mark.dovecot
def test_proxy_cut_after_bytes_breaks_a_fetch_midway(dovecot: Dovecot) -> None:
    dovecot.append(USER, "INBOX", _mail(1, size=200_000))
    with TcpProxy(dovecot.host, dovecot.port) as proxy:
        client = _connect(proxy)
        client.login(USER, PASSWORD)
        client.select_folder("INBOX", readonly=True)

        proxy.cut_after_bytes(50_000)

        with pytest.raises((OSError, IMAPClient.Error, IMAPClient.AbortError)):
            client.fetch([1], ["BODY.PEEK[]"])
        proxy.cut_after_bytes(None)
        client = _connect(proxy)
        client.login(USER, PASSWORD)
        client.select_folder("INBOX", readonly=True)
        assert client.fetch([1], ["BODY.PEEK[]"])[1][b"BODY[]"] == _mail(1, size=200_000)
        client.logout()


def test_proxy_refuse_gives_connection_refused_until_lifted() -> None:
    with socket.socket() as target:
        target.bind(("127.0.0.1", 0))
        target.listen()
        with TcpProxy("127.0.0.1", target.getsockname()[1]) as proxy:
            proxy.refuse(True)
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((proxy.host, proxy.port), timeout=2)
            proxy.refuse(False)
            socket.create_connection((proxy.host, proxy.port), timeout=2).close()


# -- SmtpSink ------------------------------------------------------------------


def _reply() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "klachten@gemeente.nl"
    message["To"] = "inwoner@example.nl"
    message["Subject"] = "Uw klacht is ontvangen"
    message.set_content("Geachte heer, wij hebben uw klacht ontvangen. Met vriendelijke groet, é")
    return message


def test_smtp_sink_captures_a_message_sent_with_smtplib() -> None:
    with SmtpSink() as sink:
        with smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
            client.send_message(_reply(), to_addrs=["inwoner@example.nl", "archief@gemeente.nl"])

        [captured] = sink.wait_for(1)

    assert captured.mail_from == "klachten@gemeente.nl"
    assert captured.rcpt_tos == ("inwoner@example.nl", "archief@gemeente.nl")
    assert captured.message["Subject"] == "Uw klacht is ontvangen"
    assert "é" in captured.message.get_content()
    assert captured.raw.startswith(b"From: klachten@gemeente.nl")
    assert captured.authenticated_as is None and not captured.tls


def test_smtp_sink_answers_451_while_failing_and_accepts_again_after() -> None:
    with SmtpSink() as sink:
        sink.fail_with(451)
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            with smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
                client.send_message(_reply())
        assert refused.value.smtp_code == 451
        assert sink.messages == [] and sink.rejected == 1

        sink.fail_with(None)
        with smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
            client.send_message(_reply())
        assert len(sink.wait_for(1)) == 1


def test_smtp_sink_wait_for_times_out_with_a_count() -> None:
    with SmtpSink() as sink:
        with pytest.raises(TimeoutError, match="got 0 of 1"):
            sink.wait_for(1, timeout=0.2)


def test_smtp_sink_requires_the_configured_login() -> None:
    with SmtpSink(auth=("klachtwacht", "geheim")) as sink:
        with smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
            with pytest.raises(smtplib.SMTPSenderRefused):
                client.send_message(_reply())
        with smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
            with pytest.raises(smtplib.SMTPAuthenticationError):
                client.login("klachtwacht", "fout")
        with smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
            client.login("klachtwacht", "geheim")
            client.send_message(_reply())
        assert sink.wait_for(1)[0].authenticated_as == "klachtwacht"


def test_smtp_sink_offers_starttls_with_a_self_signed_certificate() -> None:
    with SmtpSink(auth=("klachtwacht", "geheim"), starttls=True, require_starttls=True) as sink:
        assert sink.cafile is not None
        context = ssl.create_default_context(cafile=str(sink.cafile))
        with smtplib.SMTP(sink.host, sink.port, timeout=5) as client:
            client.starttls(context=context)
            client.login("klachtwacht", "geheim")
            client.send_message(_reply())
        assert sink.wait_for(1)[0].tls
