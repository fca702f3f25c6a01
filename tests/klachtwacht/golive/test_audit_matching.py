"""Matching complaints to register rows: sender, date window and subject, each row used once, with evidence."""

from __future__ import annotations

from datetime import date

from klachtwacht.golive.export import ExportRow
from klachtwacht.golive.match import Complaint, match_complaints, subject_similarity


def _row(line: int, day: date, sender: str, subject: str, address: str | None = None) -> ExportRow:
    return ExportRow(line, day, sender, address, subject)


def test_subjects_match_without_re_fwd_tags_case_or_accents() -> None:
    assert subject_similarity("RE: Fwd: Klacht over het café [label:klacht]", "klacht over het cafe") == 1.0
    assert subject_similarity("Klacht over de balie", "Vraag over de OZB") < 0.6


def test_the_same_sender_in_the_window_matches_with_its_evidence() -> None:
    complaint = Complaint(1, date(2026, 3, 2), "ria@example.nl", "Ria Hendriks", "Klacht over de balie")
    matches = match_complaints([complaint], [_row(2, date(2026, 3, 4), "ria@example.nl", "Bejegening balie", "ria@example.nl")])
    assert len(matches) == 1 and matches[0].row.line == 2
    assert any("zelfde afzenderadres" in e for e in matches[0].evidence) and "2 dag(en) na ontvangst" in matches[0].evidence[0]


def test_a_row_outside_the_date_window_is_no_match() -> None:
    complaint = Complaint(1, date(2026, 3, 2), "ria@example.nl", "Ria", "Klacht over de balie")
    assert match_complaints([complaint], [_row(2, date(2026, 4, 20), "ria@example.nl", "Klacht over de balie", "ria@example.nl")]) == []


def test_a_name_without_an_address_matches_when_the_subject_agrees() -> None:
    complaint = Complaint(1, date(2026, 3, 2), "p.bakker@example.nl", "Piet Bakker", "Stoep kapot in de Dorpsstraat")
    row = _row(5, date(2026, 3, 3), "Bakker, Piet", "stoep kapot dorpsstraat")
    assert [m.row.line for m in match_complaints([complaint], [row])] == [5]
    assert match_complaints([complaint], [_row(6, date(2026, 3, 3), "Bakker, Piet", "Vraag over de hondenbelasting")]) == []


def test_two_complaints_of_one_sender_take_one_row_each_by_subject() -> None:
    a = Complaint(1, date(2026, 3, 2), "ria@example.nl", "Ria", "Klacht over de balie")
    b = Complaint(2, date(2026, 3, 3), "ria@example.nl", "Ria", "Klacht over het afval")
    rows = [_row(7, date(2026, 3, 4), "ria@example.nl", "afval niet opgehaald", "ria@example.nl"),
            _row(8, date(2026, 3, 4), "ria@example.nl", "klacht over de balie", "ria@example.nl")]
    assert sorted((m.complaint, m.row.line) for m in match_complaints([a, b], rows)) == [(1, 8), (2, 7)]
