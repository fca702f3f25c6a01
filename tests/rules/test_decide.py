"""What happens to a message given its classification (rules/decide.py)."""

from __future__ import annotations

import math

import pytest

from classifiers.records import Classification
from ingest.records import Address, ParsedMessage
from rules.decide import Action, Decision, Thresholds, decide

THRESHOLDS = Thresholds(register=0.85, review=0.15)


def parsed(*auto_signals: str) -> ParsedMessage:
    return ParsedMessage(
        message_id="<1@burger.example>",
        sender=Address("burger@example.nl", "A. Burger"),
        reply_to=None,
        return_path="burger@example.nl",
        to=(Address("wethouder@gemeente.example"),),
        cc=(),
        subject="Over de afvalinzameling",
        date=None,
        text="Geachte wethouder, ...",
        text_from_html=False,
        language_hint=None,
        attachments=(),
        defects=(),
        auto_signals=tuple(sorted(auto_signals)),
        in_reply_to=None,
    )


def classified(
    p_klacht: float,
    label: str | None = None,
    *,
    subtype: str | None = None,
    needs_review: bool = False,
    reasons: tuple[str, ...] = ("reden",),
) -> Classification:
    rest = 1.0 - p_klacht
    if label is None:
        label = "klacht" if p_klacht >= 0.5 else "overig"
    other = {"klacht": p_klacht, "beleidsvraag": rest / 2, "overig": rest / 2}
    if label == "beleidsvraag":
        other = {"klacht": p_klacht, "beleidsvraag": rest, "overig": 0.0}
    return Classification(
        label=label,
        confidence=max(other.values()),
        scores=other,
        reasons=reasons,
        model="test-model 1",
        subtype=subtype,
        needs_review=needs_review,
    )


# --- thresholds ------------------------------------------------------------


def test_a_klacht_probability_at_the_register_threshold_is_registered() -> None:
    decision = decide(parsed(), classified(0.85), THRESHOLDS)
    assert decision.action == Action.REGISTER
    assert decision.notify_sender is True


def test_a_klacht_probability_above_the_register_threshold_is_registered() -> None:
    assert decide(parsed(), classified(0.99), THRESHOLDS).action == Action.REGISTER


def test_a_klacht_probability_just_below_the_register_threshold_goes_to_review() -> None:
    decision = decide(parsed(), classified(0.8499), THRESHOLDS)
    assert decision.action == Action.REVIEW
    assert decision.notify_sender is True


def test_a_klacht_probability_at_the_review_threshold_goes_to_review() -> None:
    assert decide(parsed(), classified(0.15), THRESHOLDS).action == Action.REVIEW


def test_a_klacht_probability_below_the_review_threshold_is_archived_without_a_notice() -> None:
    decision = decide(parsed(), classified(0.1499), THRESHOLDS)
    assert decision.action == Action.ARCHIVE
    assert decision.notify_sender is False


def test_the_thresholds_of_the_organisation_are_used_not_the_defaults() -> None:
    strict = Thresholds(register=0.95, review=0.5)
    assert decide(parsed(), classified(0.9), strict).action == Action.REVIEW
    assert decide(parsed(), classified(0.4), strict).action == Action.ARCHIVE


def test_a_classification_without_a_klacht_score_counts_as_zero() -> None:
    classification = Classification(label="overig", confidence=1.0, scores={"overig": 1.0}, reasons=(), model="m")
    assert decide(parsed(), classification, THRESHOLDS).action == Action.ARCHIVE


def test_the_register_reason_names_the_probability_and_the_threshold() -> None:
    decision = decide(parsed(), classified(0.9), THRESHOLDS)
    assert "90%" in decision.reason
    assert "85%" in decision.reason


# --- invalid thresholds ----------------------------------------------------


@pytest.mark.parametrize(
    ("register", "review"),
    [
        (0.5, 0.6),  # review above register
        (1.1, 0.2),  # register above 1
        (0.8, -0.1),  # review below 0
        (math.nan, 0.1),
        (0.8, math.nan),
    ],
)
def test_invalid_thresholds_are_refused(register: float, review: float) -> None:
    with pytest.raises(ValueError, match="thresholds"):
        Thresholds(register=register, review=review)


@pytest.mark.parametrize(("register", "review"), [(0.5, 0.5), (1.0, 0.0), (0.0, 0.0), (1.0, 1.0)])
def test_boundary_thresholds_are_accepted(register: float, review: float) -> None:
    assert Thresholds(register=register, review=review).register == register


# --- automatic mail (RFC 3834) ---------------------------------------------


@pytest.mark.parametrize(
    "classification",
    [
        pytest.param(classified(0.99), id="registered-klacht"),
        pytest.param(classified(0.5), id="review-band"),
        pytest.param(classified(0.6, needs_review=True), id="needs-review"),
        pytest.param(classified(0.01, "beleidsvraag"), id="beleidsvraag"),
        pytest.param(classified(0.01, "overig", subtype="bezwaar"), id="bezwaar"),
        pytest.param(classified(0.01, "overig", subtype="woo"), id="woo"),
        pytest.param(classified(0.01, "overig"), id="overig"),
    ],
)
def test_automatic_mail_is_never_answered_with_a_notice(classification: Classification) -> None:
    decision = decide(parsed("auto-submitted"), classification, THRESHOLDS)
    assert decision.notify_sender is False


def test_automatic_mail_that_is_not_a_klacht_is_archived_by_rule_naming_the_signals() -> None:
    decision = decide(parsed("precedence", "list"), classified(0.5, "overig"), THRESHOLDS)
    assert decision == Decision(Action.ARCHIVE, "automatisch bericht (list, precedence)", False, by="rule")


def test_an_automatic_mail_the_model_calls_a_klacht_is_still_registered_but_not_answered() -> None:
    decision = decide(parsed("auto-reply-subject"), classified(0.9), THRESHOLDS)
    assert decision.action == Action.REGISTER
    assert decision.notify_sender is False


# --- needs_review ----------------------------------------------------------


def test_a_message_the_model_cannot_judge_goes_to_review_whatever_its_scores() -> None:
    decision = decide(parsed(), classified(0.99, needs_review=True, reasons=("taal: en", "weinig tekst", "derde")), THRESHOLDS)
    assert decision.action == Action.REVIEW
    assert decision.by == "model"
    assert "taal: en; weinig tekst" in decision.reason
    assert "derde" not in decision.reason


def test_a_message_the_model_cannot_judge_goes_to_review_even_with_a_low_klacht_score() -> None:
    assert decide(parsed(), classified(0.0, "overig", needs_review=True), THRESHOLDS).action == Action.REVIEW


# --- other kinds of mail ---------------------------------------------------


def test_a_policy_question_goes_to_the_secretary_as_policy() -> None:
    decision = decide(parsed(), classified(0.05, "beleidsvraag"), THRESHOLDS)
    assert decision.action == Action.POLICY
    assert decision.notify_sender is True


def test_a_bezwaarschrift_is_forwarded_to_the_objections_team() -> None:
    decision = decide(parsed(), classified(0.05, "overig", subtype="bezwaar"), THRESHOLDS)
    assert decision.action == Action.BEZWAAR
    assert decision.notify_sender is True
    assert "6:15" in decision.reason


def test_a_woo_request_is_forwarded_to_the_woo_desk() -> None:
    decision = decide(parsed(), classified(0.05, "overig", subtype="woo"), THRESHOLDS)
    assert decision.action == Action.WOO
    assert decision.notify_sender is True


def test_a_klacht_with_a_bezwaar_subtype_is_registered_as_a_klacht() -> None:
    """The klacht probability is looked at before the subtype."""
    assert decide(parsed(), classified(0.9, subtype="bezwaar"), THRESHOLDS).action == Action.REGISTER


def test_other_mail_is_archived_naming_its_subtype() -> None:
    decision = decide(parsed(), classified(0.05, "overig", subtype="informatie"), THRESHOLDS)
    assert decision.action == Action.ARCHIVE
    assert "informatie" in decision.reason
    assert decision.notify_sender is False


def test_every_decision_uses_a_known_action() -> None:
    cases = [classified(p, label, subtype=s) for p in (0.0, 0.5, 0.9) for label in ("klacht", "beleidsvraag", "overig") for s in (None, "bezwaar", "woo")]
    for classification in cases:
        for signals in ((), ("loop",)):
            assert decide(parsed(*signals), classification, THRESHOLDS).action in Action.ALL
