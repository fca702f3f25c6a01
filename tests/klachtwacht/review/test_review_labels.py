"""The labels and sub-types a person may choose are those of the labeling guide, the corpus format and the classifier."""

from __future__ import annotations

import re

import pytest

from classifiers.classifier import SUBTYPES_OF
from classifiers.corpus import CORPUS_DIR
from klachtwacht.errors import InvalidDecision
from klachtwacht.review.labels import OVERIG_SUBTYPES, SUBTYPES, check, decision_for
from rules import Action


def test_the_sub_types_are_those_of_the_classifier_and_the_corpus_format() -> None:
    assert SUBTYPES["klacht"] == SUBTYPES_OF["klacht"] and SUBTYPES["beleidsvraag"] == SUBTYPES_OF["beleidsvraag"]
    fmt = (CORPUS_DIR / "FORMAT.md").read_text(encoding="utf-8")
    listed = re.search(r"- overig: (.+?)(?:\n\S|\Z)", fmt, re.DOTALL)
    assert listed is not None
    assert set(OVERIG_SUBTYPES) == {w.strip() for w in listed.group(1).replace("\n", " ").split(",")}


@pytest.mark.parametrize(
    ("label", "subtype", "action"),
    [("klacht", None, Action.REGISTER), ("beleidsvraag", None, Action.POLICY), ("overig", "bezwaar", Action.BEZWAAR),
     ("overig", "woo", Action.WOO), ("overig", "spam", Action.ARCHIVE)],
)
def test_each_label_leads_to_the_rules_action(label: str, subtype: str | None, action: str) -> None:
    decision = decision_for(label, subtype)
    assert decision.action == action and decision.by == "reviewer"


def test_a_label_outside_the_three_is_refused() -> None:
    with pytest.raises(InvalidDecision, match="kies klacht, beleidsvraag of overig"):
        check("misschien", None)
    assert check("overig", " Spam ") == ("overig", "spam", None)
    assert check("klacht", None, "iemand") == ("klacht", None, None)  # only a policy question has an answerer
