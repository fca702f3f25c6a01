"""Which message does each fetched mail belong to? (ingest/matching.py)."""

from __future__ import annotations

from ingest.identity import Identity
from ingest.matching import Carrier, Match, match_batch


def ident(key: str, fingerprint: str = "f", mid: str | None = "<form@example.nl>") -> Identity:
    return Identity(key=f"c1:{key}", fingerprint=fingerprint, message_id=mid)


def test_a_mail_with_a_stored_key_belongs_to_that_message() -> None:
    assert match_batch([ident("a")], {"c1:a": 7}, {}) == [Match(message_pk=7)]


def test_a_new_key_founds_a_message() -> None:
    assert match_batch([ident("a", mid=None)], {}, {}) == [Match(founder=0)]


def test_the_same_text_under_a_stored_message_id_belongs_to_that_message() -> None:
    """A spam filter tagged the subject in one mailbox: another key, the same fingerprint."""
    carriers = {"<form@example.nl>": [Carrier(3, "other"), Carrier(5, "f")]}
    assert match_batch([ident("tagged", "f")], {}, carriers) == [Match(message_pk=5)]


def test_other_content_under_a_stored_message_id_is_a_new_message_colliding_with_the_first_carrier() -> None:
    carriers = {"<form@example.nl>": [Carrier(3, "x"), Carrier(5, "y")]}
    assert match_batch([ident("b", "z")], {}, carriers) == [Match(founder=0, collides_with=3)]


def test_a_carrier_stored_without_a_fingerprint_never_matches_by_text() -> None:
    carriers = {"<form@example.nl>": [Carrier(3, None)]}
    assert match_batch([ident("b", "z")], {}, carriers) == [Match(founder=0, collides_with=3)]


def test_twelve_form_mails_with_one_message_id_in_one_batch_are_twelve_messages() -> None:
    batch = [ident(f"k{i}", f"f{i}") for i in range(12)]
    matches = match_batch(batch, {}, {})
    assert matches[0] == Match(founder=0)
    assert matches[1:] == [Match(founder=i, collides_with_founder=0) for i in range(1, 12)]


def test_two_copies_of_one_mail_in_a_batch_are_one_message() -> None:
    batch = [ident("a"), ident("a"), ident("a2", "f")]  # the third: same text, another key
    assert match_batch(batch, {}, {}) == [Match(founder=0), Match(founder=0), Match(founder=0)]


def test_without_a_message_id_only_the_key_matches() -> None:
    batch = [ident("a", "f", mid=None), ident("b", "f", mid=None)]
    assert match_batch(batch, {}, {}) == [Match(founder=0), Match(founder=1)]


def test_a_stored_key_wins_over_a_text_match() -> None:
    carriers = {"<form@example.nl>": [Carrier(3, "f")]}
    assert match_batch([ident("a", "f")], {"c1:a": 9}, carriers) == [Match(message_pk=9)]
