"""Sending notices over real SMTP: STARTTLS, SMTPS, authentication, refusals; templates checked at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.smtp import SmtpSink

from klachtwacht.config import OrganisationConfig, Secret, SmtpConfig
from klachtwacht.errors import NoticeRejected, NoticeUnavailable, TemplateError
from klachtwacht.notices.mailer import Mailer, OutgoingMail
from klachtwacht.notices.render import NoticeRenderer


def _mail(to: str = "burger@example.nl") -> OutgoingMail:
    return OutgoingMail(
        to=to,
        subject="Uw bericht is geregistreerd als klacht (KL-2026-000001)",
        text="Beste burger,\n\nTekst.",
        html="<p>Beste burger,</p>",
        message_id="<kw.notice_sender.1.abc@gemeente-veenstad.nl>",
        in_reply_to="<orig@example.nl>",
        references=("<orig@example.nl>",),
        attachments=(("origineel.eml", "message", "rfc822", b"From: a@example.nl\r\nSubject: x\r\n\r\nbody\r\n"),),
    )


def test_a_notice_goes_out_over_starttls_with_authentication_and_carries_the_loop_headers() -> None:
    with SmtpSink(starttls=True, require_starttls=True, auth=("klachtwacht", "smtp-geheim")) as sink:
        config = SmtpConfig(host="localhost", port=sink.port, sender="klachten@gemeente-veenstad.nl", security="starttls", username="klachtwacht", password=Secret("smtp-geheim"), ca_file=str(sink.cafile))
        Mailer(config).send(_mail())
        (captured,) = sink.wait_for(1)
    assert captured.tls and captured.authenticated_as == "klachtwacht"
    message = captured.message
    assert message["Auto-Submitted"] == "auto-replied" and message["X-Auto-Response-Suppress"] == "All"
    assert message["In-Reply-To"] == "<orig@example.nl>" and message["Message-ID"] == "<kw.notice_sender.1.abc@gemeente-veenstad.nl>"
    assert message.get_body(("html",)) is not None
    assert [p.get_content_type() for p in message.iter_attachments()] == ["message/rfc822"]


def test_a_notice_goes_out_over_implicit_tls() -> None:
    with SmtpSink(implicit_tls=True) as sink:
        config = SmtpConfig(host="localhost", port=sink.port, sender="klachten@gemeente-veenstad.nl", security="tls", ca_file=str(sink.cafile))
        Mailer(config).send(_mail())
        assert sink.wait_for(1)[0].tls


def test_an_untrusted_certificate_is_a_passing_failure_not_a_silent_send() -> None:
    with SmtpSink(starttls=True) as sink:
        config = SmtpConfig(host="localhost", port=sink.port, sender="klachten@gemeente-veenstad.nl", security="starttls")
        with pytest.raises(NoticeUnavailable):
            Mailer(config).send(_mail())
        assert sink.messages == []


def test_a_wrong_smtp_password_is_retried_later_not_given_up() -> None:
    with SmtpSink(auth=("klachtwacht", "smtp-geheim")) as sink:
        config = SmtpConfig(host="127.0.0.1", port=sink.port, sender="klachten@gemeente-veenstad.nl", username="klachtwacht", password=Secret("fout"))
        with pytest.raises(NoticeUnavailable, match="authentication"):
            Mailer(config).send(_mail())


@pytest.mark.parametrize(("code", "error"), [(451, NoticeUnavailable), (550, NoticeRejected)])
def test_a_temporary_refusal_is_retryable_and_a_permanent_one_is_not(code: int, error: type[Exception]) -> None:
    with SmtpSink() as sink:
        sink.fail_with(code, stage="RCPT")
        config = SmtpConfig(host="127.0.0.1", port=sink.port, sender="klachten@gemeente-veenstad.nl")
        with pytest.raises(error):
            Mailer(config).send(_mail())


def test_smtp_down_is_a_passing_failure() -> None:
    with SmtpSink() as sink:
        port = sink.port
    config = SmtpConfig(host="127.0.0.1", port=port, sender="klachten@gemeente-veenstad.nl", timeout=2)
    with pytest.raises(NoticeUnavailable, match="unreachable"):
        Mailer(config).send(_mail())


def _org(tmp_path: Path, files: dict[str, str]) -> OrganisationConfig:
    folder = tmp_path / "templates"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return OrganisationConfig(name="veenstad", display_name="Gemeente Veenstad", templates=str(folder))


def test_a_template_with_a_broken_placeholder_is_a_configuration_error_at_start_up(tmp_path: Path) -> None:
    org = _org(tmp_path, {"sender_klacht.txt.jinja": "Onderwerp {{ number }\n\nTekst"})
    with pytest.raises(TemplateError) as caught:
        NoticeRenderer((org,), "klachtwacht.toml")
    assert caught.value.key == "organisations.veenstad.templates" and "sender_klacht.txt.jinja" in str(caught.value)


def test_a_template_naming_an_unknown_value_is_a_configuration_error_at_start_up(tmp_path: Path) -> None:
    org = _org(tmp_path, {"secretary_klacht.txt.jinja": "Onderwerp\n\n{{ dossiernummer }}"})
    with pytest.raises(TemplateError, match="dossiernummer"):
        NoticeRenderer((org,), "klachtwacht.toml")


def test_an_organisation_overrides_one_template_and_keeps_the_others(tmp_path: Path) -> None:
    org = _org(tmp_path, {"sender_klacht.txt.jinja": "Klacht {{ number }} ontvangen\n\nBeste {{ sender_name or 'inwoner' }}, tot {{ due | datum }}."})
    renderer = NoticeRenderer((org,), "klachtwacht.toml")
    from datetime import date

    context = {"org": org, "number": "KL-2026-000009", "received": date(2026, 3, 2), "due": date(2026, 4, 13), "subject": "x", "sender_name": None, "mailbox": "w", "sender_notified": True, "decided_by_text": "het model"}
    own = renderer.render("veenstad", "sender_klacht", context)
    assert own.subject == "Klacht KL-2026-000009 ontvangen" and own.text == "Beste inwoner, tot 13 april 2026."
    default = renderer.render("veenstad", "secretary_klacht", context)
    assert "KL-2026-000009" in default.subject and "13 april 2026" in default.text


def test_a_missing_templates_folder_names_the_key(tmp_path: Path) -> None:
    from klachtwacht.config import parse_config
    from klachtwacht.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        parse_config({"organisations": [{"name": "veenstad", "display_name": "V", "templates": str(tmp_path / "nergens")}]}, "k.toml")
    assert caught.value.key == "organisations[0].templates"
