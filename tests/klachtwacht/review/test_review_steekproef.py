"""The steekproef of automatic decisions and the measured figures from it, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from review_desk import RECEIVED, Desk
from sqlalchemy import select

from klachtwacht.db.models import Sample
from klachtwacht.errors import DecisionConflict
from klachtwacht.review import record_decision, undo
from klachtwacht.review.measure import measured
from klachtwacht.review.steekproef import confirm_sample, draw, iso_week, open_samples


@pytest.fixture
def desk(tmp_path: Path, db_url: str) -> Iterator[Desk]:
    desk = Desk(tmp_path, db_url)
    yield desk
    desk.close()


def _sampled(desk: Desk) -> list[int]:
    with desk.sessions() as session:
        return list(session.scalars(select(Sample.message_pk).order_by(Sample.message_pk)))


def test_the_steekproef_draws_distinct_automatic_decisions_and_never_one_twice(desk: Desk) -> None:
    assert iso_week(RECEIVED) == "2026-W10"
    automatic = [desk.arrive(p=0.97) for _ in range(4)] + [desk.arrive(label="overig", p=0.97, subtype="nieuwsbrief") for _ in range(4)]
    in_review = desk.arrive(p=0.6)
    by_person = desk.arrive(p=0.6)
    record_decision(desk.sessions, desk.flow, by_person, label="overig", subtype="spam", actor="ria")
    next_week = desk.arrive(p=0.97, received=RECEIVED + timedelta(days=7))
    first = draw(desk.sessions, config=desk.config, organisation="default", week="2026-W10", size=3, seed=1)
    assert len(first) == 3 and len(set(_sampled(desk))) == 3
    assert draw(desk.sessions, config=desk.config, organisation="default", week="2026-W10", size=3, seed=1) == []  # the week has its three
    more = draw(desk.sessions, config=desk.config, organisation="default", week="2026-W10", size=20, seed=2)
    assert len(more) == 5 and not set(more) & set(first)
    assert _sampled(desk) == sorted(automatic)  # all of the week's automatic decisions, each once
    assert in_review not in _sampled(desk) and by_person not in _sampled(desk) and next_week not in _sampled(desk)
    assert len(open_samples(desk.sessions, organisation="default")) == 8


def test_the_same_seed_draws_the_same_sample(tmp_path: Path, db_url: str) -> None:
    drawn = []
    for run in ("a", "b"):
        (tmp_path / run).mkdir()
        desk = Desk(tmp_path / run, db_url if run == "a" else f"sqlite:///{tmp_path / run / 'kw.db'}")
        for _ in range(6):
            desk.arrive(label="overig", p=0.97, subtype="nieuwsbrief")
        draw(desk.sessions, config=desk.config, organisation="default", week="2026-W10", size=2, seed=7)
        drawn.append(_sampled(desk))
        desk.close()
    assert drawn[0] == drawn[1]


def test_confirming_a_sample_records_it_and_a_second_confirmation_is_refused(desk: Desk) -> None:
    pk = desk.arrive(label="overig", p=0.97, subtype="nieuwsbrief")
    (sample_id,) = draw(desk.sessions, config=desk.config, organisation="default", week="2026-W10", size=1, seed=0)
    confirm_sample(desk.sessions, desk.flow, sample_id, label="overig", subtype="nieuwsbrief", actor="coord")
    assert desk.state(pk) == "done" and open_samples(desk.sessions) == []
    with pytest.raises(DecisionConflict, match="al beoordeeld"):
        confirm_sample(desk.sessions, desk.flow, sample_id, label="klacht", actor="coord")
    assert desk.outbox(pk) == {}


def test_a_sampled_complaint_corrected_to_no_complaint_is_withdrawn(desk: Desk) -> None:
    pk = desk.arrive(p=0.97)
    (sample_id,) = draw(desk.sessions, config=desk.config, organisation="default", week="2026-W10", size=1, seed=0)
    confirm_sample(desk.sessions, desk.flow, sample_id, label="beleidsvraag", answerer="griffie", reason="vraagt naar beleid", actor="coord")
    assert desk.entry(pk).status == "withdrawn"


def test_a_sampled_missed_complaint_is_registered_now(desk: Desk) -> None:
    pk = desk.arrive(label="overig", p=0.97, subtype="nieuwsbrief")
    (sample_id,) = draw(desk.sessions, config=desk.config, organisation="default", week="2026-W10", size=1, seed=0)
    confirm_sample(desk.sessions, desk.flow, sample_id, label="klacht", actor="coord")
    assert desk.run(pk) == "done" and desk.entry(pk).status == "open"


def test_measured_reports_review_and_steekproef_apart_and_leaves_out_undone_decisions(desk: Desk) -> None:
    right, wrong, undone = desk.arrive(p=0.6), desk.arrive(p=0.6), desk.arrive(p=0.6)
    record_decision(desk.sessions, desk.flow, right, label="klacht", actor="ria")
    record_decision(desk.sessions, desk.flow, wrong, label="overig", subtype="melding", actor="ria")
    undo(desk.sessions, desk.flow, record_decision(desk.sessions, desk.flow, undone, label="overig", subtype="spam", actor="ria"), actor="ria")
    for _ in range(3):
        desk.arrive(p=0.97)
    for sample_id in draw(desk.sessions, config=desk.config, organisation="default", week="2026-W10", size=3, seed=0):
        confirm_sample(desk.sessions, desk.flow, sample_id, label="klacht", actor="coord")
    figures = measured(desk.sessions, organisation="default", config=desk.config)
    assert (figures.n_review, figures.corrected_review, figures.n_steekproef) == (2, 1, 3)
    assert figures.review["klacht"].precision == 0.5 and figures.steekproef["klacht"].precision == 1.0
    assert figures.steekproef["klacht"].precision_interval[0] == pytest.approx(0.4385, abs=5e-4)
    assert measured(desk.sessions, organisation="elders", config=desk.config).n_steekproef == 0


def test_corrections_afterwards_are_left_out_of_the_measured_figures(desk: Desk) -> None:
    from klachtwacht.review import withdraw

    pk = desk.arrive(p=0.97)
    withdraw(desk.sessions, pk, reason="geen klacht", actor="coord", subtype="compliment")
    figures = measured(desk.sessions)
    assert (figures.n_review, figures.n_steekproef, figures.corrected_share) == (0, 0, None)


def test_the_steekproef_command_draws_the_week_for_every_organisation(desk: Desk, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from klachtwacht.cli import main

    for _ in range(3):
        desk.arrive(p=0.97)
    config = str(tmp_path / "klachtwacht.toml")
    assert main(["reviews", "steekproef", "--week", "2026-W10", "--json", "--config", config]) == 0
    assert json.loads(capsys.readouterr().out) == {"week": "2026-W10", "drawn": {"default": 3}}
    assert main(["reviews", "steekproef", "--week", "2026-W10", "--json", "--config", config]) == 0
    assert json.loads(capsys.readouterr().out)["drawn"] == {"default": 0}
