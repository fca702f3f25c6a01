"""The whole plan of one message (rules/plan.py): one test per rule and gate, no server."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from classifiers.records import Classification
from ingest.records import Address, ParsedMessage
from rules.decide import Action, Decision, Thresholds
from rules.plan import Facts, Kind, MailboxFacts, OrganisationFacts, Phase, Plan, Rules, plan
from rules.routing import Route

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
WETHOUDER = MailboxFacts("wethouder-devries", "wethouder@veenstad.nl", "veenstad", "secretariaat@veenstad.nl")
GRIFFIE = MailboxFacts("griffie", "raad@veenstad.nl", "veenstad", "griffie@veenstad.nl")
RULES = Rules(
    thresholds={"veenstad": Thresholds(register=0.85, review=0.15), "ssc": Thresholds(register=0.85, review=0.15)},
    organisations={"veenstad": OrganisationFacts("veenstad", "bezwaar@veenstad.nl", "woo@veenstad.nl"), "ssc": OrganisationFacts("ssc")},
    default_organisation="veenstad",
    sender="klachten@veenstad.nl",
    internal_domains=frozenset({"veenstad.nl"}),
    register_backend="zgw",
    routes=(Route("sociaal", "ssc", ("wmo",)),),
)


def _parsed(sender: str = "burger@example.nl", *, auto: tuple[str, ...] = (), text: str = "Ik ben boos.", reply_to: str | None = None, subject: str = "Afval") -> ParsedMessage:
    return ParsedMessage(
        message_id="<1@example.nl>", sender=Address(sender, "A. Burger") if sender else None, reply_to=Address(reply_to) if reply_to else None,
        return_path=sender, to=(), cc=(), subject=subject, date=None, text=text, text_from_html=False, language_hint=None,
        attachments=(), defects=(), auto_signals=auto, in_reply_to=None,
    )


def _classified(label: str = "klacht", p: float = 0.97, subtype: str | None = None) -> Classification:
    rest = (1 - p) / 2
    scores = {"klacht": rest, "beleidsvraag": rest, "overig": rest, label: p}
    return Classification(label=label, confidence=p, scores=scores, reasons=("r",), model="m", subtype=subtype)


def _plan(parsed: ParsedMessage | None = None, classification: Classification | None = None, mailboxes: tuple[MailboxFacts, ...] = (WETHOUDER,), rules: Rules = RULES, **more: object) -> Plan:
    facts = Facts(parsed or _parsed(), classification or _classified(), mailboxes, received_at=NOW - timedelta(hours=1), now=NOW, **more)  # type: ignore[arg-type]
    return plan(facts, rules)


def _letter(p: Plan) -> object:
    return next(e for e in p.effects if e.kind == Kind.NOTICE_SENDER)


def test_a_complaint_is_registered_then_lettered_then_its_secretary_told() -> None:
    p = _plan()
    assert [(e.kind, e.phase) for e in p.effects] == [(Kind.REGISTER, Phase.REGISTER), (Kind.NOTICE_SENDER, Phase.LETTERS), (Kind.NOTICE_SECRETARY, Phase.SECRETARIES)]
    register = p.effects[0]
    assert register.recipient == "veenstad" and register.backend == "zgw" and register.route is None
    assert p.letter_skipped is None and _letter(p).recipient == "burger@example.nl"  # type: ignore[attr-defined]


def test_a_complaint_about_a_routed_topic_is_registered_by_the_route_organisation() -> None:
    p = _plan(_parsed(text="Mijn Wmo-voorziening is te laat."))
    assert p.organisation == "ssc" and p.effects[0].recipient == "ssc" and p.effects[0].route == "sociaal"
    assert all(e.organisation == "ssc" for e in p.effects)


def test_each_mailbox_secretary_is_told_once_even_when_two_mailboxes_share_one() -> None:
    shared = dataclasses.replace(GRIFFIE, secretary=WETHOUDER.secretary)
    assert [e.recipient for e in _plan(mailboxes=(WETHOUDER, GRIFFIE)).effects if e.kind == Kind.NOTICE_SECRETARY] == ["secretariaat@veenstad.nl", "griffie@veenstad.nl"]
    assert len([e for e in _plan(mailboxes=(WETHOUDER, shared)).effects if e.kind == Kind.NOTICE_SECRETARY]) == 1


def test_a_mailbox_without_a_secretary_is_told_itself() -> None:
    p = _plan(mailboxes=(dataclasses.replace(WETHOUDER, secretary=None),))
    assert p.effects[-1].recipient == "wethouder@veenstad.nl"


def test_an_uncertain_message_goes_to_review_with_no_effects() -> None:
    p = _plan(classification=_classified("klacht", 0.5))
    assert p.decision.action == Action.REVIEW and p.review and p.effects == ()


def test_an_archived_message_has_no_effects() -> None:
    p = _plan(classification=_classified("overig", 0.99))
    assert p.decision.action == Action.ARCHIVE and p.review is None and p.effects == ()


def test_a_policy_question_tells_the_secretary_and_not_the_sender() -> None:
    p = _plan(classification=_classified("beleidsvraag", 0.9))
    assert [e.kind for e in p.effects] == [Kind.NOTICE_SECRETARY] and p.effects[0].template == "secretary_beleidsvraag"


def test_a_bezwaarschrift_is_forwarded_to_the_bezwaar_team_before_the_letter() -> None:
    p = _plan(classification=_classified("overig", 0.95, "bezwaar"))
    assert [(e.kind, e.recipient) for e in p.effects[:2]] == [(Kind.FORWARD_BEZWAAR, "bezwaar@veenstad.nl"), (Kind.NOTICE_SENDER, "burger@example.nl")]


def test_a_woo_request_is_forwarded_to_the_woo_desk() -> None:
    p = _plan(classification=_classified("overig", 0.95, "woo"))
    assert p.effects[0].kind == Kind.FORWARD_WOO and p.effects[0].recipient == "woo@veenstad.nl"


def test_a_forward_without_a_team_address_goes_to_review() -> None:
    rules = dataclasses.replace(RULES, organisations={"veenstad": OrganisationFacts("veenstad")})
    p = _plan(classification=_classified("overig", 0.95, "woo"), rules=rules)
    assert p.review is not None and "woo-team" in p.review and p.effects == ()


def test_rfc3834_automatic_mail_gets_no_letter() -> None:
    p = _plan(_parsed(auto=("auto-submitted",)))
    assert p.effects[0].kind == Kind.REGISTER and p.letter_skipped is not None and "RFC 3834" in p.letter_skipped


def test_a_decision_that_says_do_not_notify_gets_no_letter() -> None:
    decision = Decision(Action.REGISTER, "door een medewerker", notify_sender=False, by="reviewer")
    assert "RFC 3834" in (_plan(decision=decision).letter_skipped or "")


def test_a_no_reply_sender_gets_no_letter() -> None:
    assert _plan(_parsed("no-reply@example.nl")).letter_skipped == "afzender is een no-reply- of systeemadres"


def test_a_no_reply_address_in_reply_to_gets_no_letter() -> None:
    assert _plan(_parsed(reply_to="noreply@example.nl")).letter_skipped == "afzender is een no-reply- of systeemadres"


def test_our_own_sender_gets_no_letter() -> None:
    assert "lusbeveiliging" in (_plan(_parsed("klachten@veenstad.nl")).letter_skipped or "")


def test_a_message_without_a_usable_sender_gets_no_letter() -> None:
    p = _plan(_parsed(""))
    assert p.letter_skipped == "geen bruikbaar afzenderadres" and _letter(p).recipient == "-"  # type: ignore[attr-defined]


def test_a_colleagues_forward_is_lettered_to_the_citizen() -> None:
    text = "Ter info.\n\n---------- Doorgestuurd bericht ----------\nVan: Piet Bakker <p.bakker@example.nl>\nOnderwerp: x\n\nKlacht."
    assert _letter(_plan(_parsed("secretariaat@veenstad.nl", text=text))).recipient == "p.bakker@example.nl"  # type: ignore[attr-defined]




def test_a_reviewers_decision_replaces_the_rules() -> None:
    decision = Decision(Action.REGISTER, "klacht volgens de secretaris", notify_sender=True, by="reviewer")
    p = _plan(classification=_classified("klacht", 0.5), decision=decision)
    assert p.decision.by == "reviewer" and p.effects[0].kind == Kind.REGISTER


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="pilot"):
        _plan(mode="pilot")


def test_the_thresholds_of_the_home_organisation_apply() -> None:
    rules = dataclasses.replace(RULES, thresholds={**RULES.thresholds, "veenstad": Thresholds(register=0.99, review=0.2)})
    assert _plan(rules=rules).decision.action == Action.REVIEW
