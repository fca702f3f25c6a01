"""The going-live guards as pure functions and in the plan: history, the age guard, confirm, shadow, answered."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from classifiers.records import Classification
from ingest.records import Address, ParsedMessage
from rules.decide import Thresholds
from rules.golive import age_reason, history_reason, start_moment
from rules.plan import Facts, Kind, MailboxFacts, OrganisationFacts, Rules, plan

NOW = datetime(2026, 4, 11, 12, 0, tzinfo=timezone.utc)
BOX = MailboxFacts("wethouder-devries", "wethouder@veenstad.nl", "veenstad")
RULES = Rules(
    thresholds={"veenstad": Thresholds(register=0.85, review=0.15)}, organisations={"veenstad": OrganisationFacts("veenstad")},
    default_organisation="veenstad", sender="klachten@veenstad.nl", internal_domains=frozenset({"veenstad.nl"}),
)
KLACHT = Classification(label="klacht", confidence=0.97, scores={"klacht": 0.97}, reasons=(), model="m@1")


def _facts(received: datetime, **more: object) -> Facts:
    parsed = ParsedMessage(
        message_id="<a@x>", sender=Address("ria@example.nl", "Ria"), reply_to=None, return_path="ria@example.nl", to=(), cc=(), subject="Klacht",
        date=None, text="De balie.", text_from_html=False, language_hint=None, attachments=(), defects=(), auto_signals=(), in_reply_to=None,
    )
    return Facts(parsed, KLACHT, (BOX,), received, NOW, **more)  # type: ignore[arg-type]


def test_a_start_date_begins_at_dutch_midnight() -> None:
    start = start_moment(date(2026, 3, 1), None)
    assert start is not None and start.astimezone(timezone.utc) == datetime(2026, 2, 28, 23, 0, tzinfo=timezone.utc)
    assert start_moment(None, NOW) == NOW and start_moment(None, None) is None


def test_mail_in_the_same_second_as_the_first_poll_is_new_not_history() -> None:
    polled = NOW.replace(microsecond=700_000)  # the first poll began 0.7 s into the second
    arrived = NOW  # appended just after it: INTERNALDATE has whole seconds, so it reads as 0.7 s earlier
    assert history_reason(arrived, start_moment(None, polled)) is None
    assert history_reason(arrived - timedelta(seconds=1), start_moment(None, polled)) is not None


def test_mail_received_before_the_start_is_history_with_nothing_planned() -> None:
    p = plan(_facts(NOW - timedelta(days=400), start=NOW - timedelta(days=1)), RULES)
    assert p.history is not None and "vóór de start" in p.history and p.effects == () and p.review is None
    assert history_reason(NOW, NOW) is None


def test_the_age_guard_says_when_it_came_and_how_long_ago() -> None:
    assert age_reason(datetime(2026, 3, 3, 9, 0, tzinfo=timezone.utc), NOW, 14) == (
        "ontvangen op 3 maart, 39 dagen geleden: geen automatische ontvangstbevestiging"
    )
    assert age_reason(NOW - timedelta(days=13), NOW, 14) is None and age_reason(NOW - timedelta(days=400), NOW, None) is None
    p = plan(_facts(NOW - timedelta(days=40), max_age_days=14), RULES)
    assert p.review is not None and "40 dagen geleden" in p.review and p.effects == ()


def test_confirm_mode_sends_every_complaint_to_review_and_records_the_mode() -> None:
    p = plan(_facts(NOW - timedelta(hours=1), mode="confirm"), RULES)
    assert p.review is not None and "bevestig" in p.review and p.mode == "confirm"


def test_shadow_mode_plans_as_auto_and_says_so() -> None:
    shadow, auto = plan(_facts(NOW - timedelta(hours=1), mode="shadow"), RULES), plan(_facts(NOW - timedelta(hours=1)), RULES)
    assert shadow.shadow and not auto.shadow and shadow.effects == auto.effects


def test_an_answered_complaint_is_registered_with_its_letter_held() -> None:
    p = plan(_facts(NOW - timedelta(hours=1), answered=True), RULES)
    by_kind = {e.kind: e for e in p.effects}
    assert by_kind[Kind.REGISTER].hold is None and by_kind[Kind.NOTICE_SENDER].hold is not None and p.held is not None
