"""A person's decision, undo and withdrawal, on SQLite and PostgreSQL, with the real flow and outbox."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from review_desk import Desk
from sqlalchemy import func, select

from klachtwacht.db.models import Effect, ReviewDecision, Transition
from klachtwacht.effects import CANCELLED, DONE, PLANNED
from klachtwacht.errors import DecisionConflict, InvalidDecision, UndoRefused
from klachtwacht.review import record_decision, undo, withdraw
from klachtwacht.review.decide import undo_blocker


@pytest.fixture
def desk(tmp_path: Path, db_url: str) -> Iterator[Desk]:
    desk = Desk(tmp_path, db_url)
    yield desk
    desk.close()


def _counts(desk: Desk, pk: int) -> tuple[int, int, int]:
    with desk.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(ReviewDecision).where(ReviewDecision.message_pk == pk)) or 0,
            session.scalar(select(func.count()).select_from(Transition).where(Transition.message_pk == pk)) or 0,
            session.scalar(select(func.count()).select_from(Effect).where(Effect.message_pk == pk)) or 0,
        )


def test_deciding_a_klacht_in_review_plans_the_register_entry_and_the_letters(desk: Desk) -> None:
    pk = desk.arrive(p=0.6)
    assert desk.state(pk) == "review" and desk.outbox(pk) == {}
    decision_id = record_decision(desk.sessions, desk.flow, pk, label="klacht", subtype="bejegening", actor="ria")
    assert desk.state(pk) == "decided"
    assert desk.outbox(pk) == {"register": PLANNED, "notice_sender": PLANNED, "notice_secretary": PLANNED}
    with desk.sessions() as session:
        row = session.get(ReviewDecision, decision_id)
        assert row is not None
        assert (row.predicted_label, row.confidence, row.model, row.final_label, row.final_subtype, row.source, row.actor, row.previous_state) == (
            "klacht", 0.6, "fixed@1", "klacht", "bejegening", "review", "ria", "review")
    assert desk.run(pk) == "done"
    entry = desk.entry(pk)
    assert entry is not None and entry.status == "open" and entry.number.startswith("KL-2026-")
    assert desk.letters_to("ria@example.nl") == 1 and desk.message(pk).decided_by == "reviewer"


def test_a_second_decision_on_the_same_message_raises_and_changes_nothing(desk: Desk) -> None:
    pk = desk.arrive(p=0.6)
    record_decision(desk.sessions, desk.flow, pk, label="klacht", actor="ria")
    before = _counts(desk, pk)
    with pytest.raises(DecisionConflict, match="intussen al behandeld"):
        record_decision(desk.sessions, desk.flow, pk, label="overig", subtype="spam", actor="anne")
    assert _counts(desk, pk) == before and desk.state(pk) == "decided"


def test_two_tabs_deciding_at_once_make_one_decision(desk: Desk) -> None:
    pk = desk.arrive(p=0.6)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def decide(label: str, subtype: str | None) -> None:
        start.wait()
        try:
            record_decision(desk.sessions, desk.flow, pk, label=label, subtype=subtype, actor=label)
            outcomes.append("ok")
        except DecisionConflict:
            outcomes.append("conflict")
        except Exception as exc:  # SQLite may refuse the loser outright with 'database is locked'
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=decide, args=args) for args in (("klacht", None), ("overig", "spam"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 1
    assert _counts(desk, pk)[0] == 1


def test_an_incomplete_decision_is_refused_in_dutch_before_anything_changes(desk: Desk) -> None:
    pk = desk.arrive(p=0.6)
    with pytest.raises(InvalidDecision, match="kies bij 'overig'"):
        record_decision(desk.sessions, desk.flow, pk, label="overig", actor="ria")
    with pytest.raises(InvalidDecision, match="wie de vraag beantwoordt"):
        record_decision(desk.sessions, desk.flow, pk, label="beleidsvraag", actor="ria")
    with pytest.raises(InvalidDecision, match="onbekend soort"):
        record_decision(desk.sessions, desk.flow, pk, label="overig", subtype="bejegening", actor="ria")
    assert desk.state(pk) == "review" and _counts(desk, pk)[0] == 0


def test_a_policy_question_records_who_answers_and_tells_the_secretary(desk: Desk) -> None:
    pk = desk.arrive(p=0.6)
    decision_id = record_decision(desk.sessions, desk.flow, pk, label="beleidsvraag", answerer="wethouder De Vries", actor="ria")
    assert desk.outbox(pk) == {"notice_secretary": PLANNED}
    assert "te beantwoorden door wethouder De Vries" in (desk.message(pk).decision_reason or "")
    with desk.sessions() as session:
        row = session.get(ReviewDecision, decision_id)
        assert row is not None and row.answerer == "wethouder De Vries"


def test_overig_ends_the_message_without_effects(desk: Desk) -> None:
    pk = desk.arrive(p=0.6)
    record_decision(desk.sessions, desk.flow, pk, label="overig", subtype="nieuwsbrief", actor="ria")
    assert desk.state(pk) == "done" and desk.outbox(pk) == {}


def test_undo_before_the_letter_is_sent_returns_to_review_and_cancels_the_plan(desk: Desk) -> None:
    pk = desk.arrive(p=0.6)
    decision_id = record_decision(desk.sessions, desk.flow, pk, label="klacht", actor="ria")
    assert undo_blocker(desk.sessions, decision_id) is None
    undo(desk.sessions, desk.flow, decision_id, actor="ria")
    assert desk.state(pk) == "review" and undo_blocker(desk.sessions, decision_id) == "dit besluit is al teruggedraaid"
    assert set(desk.outbox(pk).values()) == {CANCELLED}
    with desk.sessions() as session:
        row = session.get(ReviewDecision, decision_id)
        assert row is not None and row.undone_at is not None
    with pytest.raises(DecisionConflict, match="al teruggedraaid"):
        undo(desk.sessions, desk.flow, decision_id, actor="ria")
    # decided again after the undo: the cancelled rows are planned again and carried out once
    record_decision(desk.sessions, desk.flow, pk, label="klacht", actor="anne")
    assert desk.run(pk) == "done"
    assert desk.outbox(pk) == {"register": DONE, "notice_sender": DONE, "notice_secretary": DONE}
    assert desk.letters_to("ria@example.nl") == 1 and desk.entry(pk) is not None


def test_undo_after_the_letter_was_sent_is_refused_and_says_what_happened(desk: Desk) -> None:
    pk = desk.arrive(p=0.6)
    decision_id = record_decision(desk.sessions, desk.flow, pk, label="klacht", actor="ria")
    assert desk.run(pk) == "done"
    assert "brief aan de afzender is al verstuurd" in (undo_blocker(desk.sessions, decision_id) or "")
    with pytest.raises(UndoRefused, match="brief aan de afzender is al verstuurd") as refused:
        undo(desk.sessions, desk.flow, decision_id, actor="ria")
    assert "in het register als KL-2026-" in str(refused.value)
    assert desk.state(pk) == "done"
    with desk.sessions() as session:
        row = session.get(ReviewDecision, decision_id)
        assert row is not None and row.undone_at is None


def test_withdrawing_an_automatic_registration_keeps_the_entry_as_withdrawn(desk: Desk) -> None:
    pk = desk.arrive(p=0.97)  # registered by the model
    assert desk.state(pk) == "done" and desk.message(pk).decided_by == "model"
    number = desk.entry(pk).number
    decision_id = withdraw(desk.sessions, pk, reason="een compliment, geen klacht", actor="coord", subtype="compliment")
    entry = desk.entry(pk)
    assert entry is not None and entry.number == number and entry.status == "withdrawn" and entry.closed_at is not None
    with desk.sessions() as session:
        row = session.get(ReviewDecision, decision_id)
        assert row is not None and (row.source, row.final_label, row.final_subtype, row.reason) == ("correction", "overig", "compliment", "een compliment, geen klacht")
    with pytest.raises(DecisionConflict, match="al ingetrokken"):
        withdraw(desk.sessions, pk, reason="nogmaals", actor="coord")


def test_withdrawing_before_the_letters_went_cancels_them(desk: Desk) -> None:
    pk = desk.arrive(p=0.6)
    record_decision(desk.sessions, desk.flow, pk, label="klacht", actor="ria")
    desk.services.steps.pop("registered")  # the register step runs; the letters do not yet
    desk.run(pk)
    assert desk.outbox(pk)["register"] == DONE and desk.outbox(pk)["notice_sender"] == PLANNED
    withdraw(desk.sessions, pk, reason="beleid, geen gedrag", actor="coord", label="beleidsvraag", subtype=None, answerer="griffie")
    assert desk.outbox(pk) == {"register": DONE, "notice_sender": CANCELLED, "notice_secretary": CANCELLED}
    assert desk.entry(pk).status == "withdrawn" and desk.state(pk) == "done"
    assert desk.letters_to("ria@example.nl") == 0


def test_withdrawing_a_complaint_kept_in_a_case_system_says_the_zaak_was_left_alone(desk: Desk) -> None:
    desk.register.name = "zgw"  # the entry names the backend it was registered in
    pk = desk.arrive(p=0.97)
    withdraw(desk.sessions, pk, reason="geen gedrag", actor="coord", subtype="melding")
    entry = desk.entry(pk)
    assert entry.backend == "zgw" and entry.status == "withdrawn"
    assert f"de zaak in het zaaksysteem ({entry.number}) is niet aangepast" in (desk.message(pk).decision_reason or "")


def test_a_steekproef_decision_is_not_undone_from_the_review_queue(desk: Desk) -> None:
    from klachtwacht.review.steekproef import confirm_sample, draw

    desk.arrive(label="overig", p=0.97, subtype="nieuwsbrief")
    (sample_id,) = draw(desk.sessions, config=desk.config, organisation="default", week="2026-W10", size=1, seed=0)
    decision_id = confirm_sample(desk.sessions, desk.flow, sample_id, label="overig", subtype="nieuwsbrief", actor="coord")
    with pytest.raises(UndoRefused, match="alleen een beoordeling uit de wachtrij"):
        undo(desk.sessions, desk.flow, decision_id, actor="coord")
    with desk.sessions() as session:
        row = session.get(ReviewDecision, decision_id)
        assert row is not None and row.undone_at is None


def test_a_bulk_decision_is_overig_only_and_skips_a_message_decided_meanwhile(desk: Desk) -> None:
    first, taken, last = desk.arrive(p=0.6), desk.arrive(p=0.6), desk.arrive(p=0.6)
    record_decision(desk.sessions, desk.flow, taken, label="klacht", actor="anne")
    from klachtwacht.review import record_bulk

    done = record_bulk(desk.sessions, desk.flow, [first, taken, last], subtype="nieuwsbrief", actor="ria")
    assert isinstance(done[first], int) and isinstance(done[last], int)
    assert isinstance(done[taken], str) and "intussen al behandeld" in done[taken]
    assert [desk.state(pk) for pk in (first, taken, last)] == ["done", "decided", "done"]
    with pytest.raises(InvalidDecision):
        record_bulk(desk.sessions, desk.flow, [first], subtype="bejegening", actor="ria")
