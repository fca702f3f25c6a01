"""What a person may decide: the three labels, their sub-types, and the rules' action for each.

The sub-types are those of the labeling guide and the corpus format
(``classifiers/corpus/FORMAT.md``); ``overig`` must name one, because some
carry their own legal track (a bezwaarschrift is forwarded, Awb 6:15; a Woo
request goes to the Woo desk). Pure: no I/O.
"""

from __future__ import annotations

from klachtwacht.errors import InvalidDecision
from rules import Action, Decision

__all__ = ["LABELS", "LABEL_NAMES", "SUBTYPES", "OVERIG_SUBTYPES", "SUBTYPE_NAMES", "SOURCES", "check", "decision_for"]

LABELS = ("klacht", "beleidsvraag", "overig")
#: How the screens name each label.
LABEL_NAMES = {"klacht": "Klacht", "beleidsvraag": "Beleidsvraag", "overig": "Overig"}
#: The sub-types of ``overig`` with the name a secretary sees, in the order of the form.
OVERIG_SUBTYPES: dict[str, str] = {
    "melding": "Melding openbare ruimte",
    "bezwaar": "Bezwaarschrift",
    "woo": "Woo-verzoek",
    "auto-reply": "Automatisch antwoord",
    "bounce": "Onbestelbaar bericht",
    "compliment": "Compliment",
    "bedankt": "Bedankje",
    "nieuwsbrief": "Nieuwsbrief of persbericht",
    "uitnodiging": "Uitnodiging of agenda",
    "intern": "Interne post",
    "pers": "Persvraag",
    "sollicitatie": "Sollicitatie",
    "factuur": "Factuur",
    "verkoop": "Verkoopaanbod",
    "spam": "Spam",
    "phishing": "Phishing",
    "overig": "Iets anders",
}
#: Every label's sub-types (optional for klacht and beleidsvraag, required for overig).
SUBTYPES: dict[str, tuple[str, ...]] = {
    "klacht": ("bejegening", "geen-reactie", "vertraging", "informatie", "behandeling", "melding-genegeerd", "doorgestuurd", "gemengd"),
    "beleidsvraag": ("vraag", "mening", "voorstel", "petitie", "inspreken", "gesprek"),
    "overig": tuple(OVERIG_SUBTYPES),
}
SUBTYPE_NAMES: dict[str, str] = {**{s: s.replace("-", " ") for s in SUBTYPES["klacht"] + SUBTYPES["beleidsvraag"]}, **OVERIG_SUBTYPES}
#: Where a ReviewDecision comes from.
SOURCES = ("review", "steekproef", "correction")


def check(label: str, subtype: str | None, answerer: str | None = None) -> tuple[str, str | None, str | None]:
    """The decision's (label, subtype, answerer), cleaned; :class:`InvalidDecision` in Dutch when it is incomplete."""
    if label not in LABELS:
        raise InvalidDecision(f"onbekend label {label!r}: kies klacht, beleidsvraag of overig")
    subtype = (subtype or "").strip().lower() or None
    if label == "overig" and subtype is None:
        raise InvalidDecision("kies bij 'overig' wat voor bericht het is")
    if subtype is not None and subtype not in SUBTYPES[label]:
        raise InvalidDecision(f"onbekend soort {subtype!r} bij {label}")
    answerer = (answerer or "").strip() or None
    if label == "beleidsvraag" and answerer is None:
        raise InvalidDecision("vul bij een beleidsvraag in wie de vraag beantwoordt")
    return label, subtype, answerer if label == "beleidsvraag" else None


def decision_for(label: str, subtype: str | None, reason: str | None = None, answerer: str | None = None) -> Decision:
    """The rules' decision for a person's label: klacht registers, beleidsvraag asks for an answer, overig ends.

    An ``overig`` bezwaarschrift or Woo request is forwarded to its team, as
    the rules do for the model's decisions.
    """
    why = f": {reason}" if reason else ""
    if label == "klacht":
        return Decision(Action.REGISTER, "klacht volgens een medewerker" + why, notify_sender=True, by="reviewer")
    if label == "beleidsvraag":
        by = f" door {answerer}" if answerer else ""
        return Decision(Action.POLICY, f"beleidsvraag volgens een medewerker: te beantwoorden{by}" + why, notify_sender=True, by="reviewer")
    if subtype == "bezwaar":
        return Decision(Action.BEZWAAR, "bezwaarschrift volgens een medewerker: doorsturen naar het bezwaarteam (Awb 6:15)" + why, notify_sender=True, by="reviewer")
    if subtype == "woo":
        return Decision(Action.WOO, "Woo-verzoek volgens een medewerker: doorsturen naar het Woo-loket" + why, notify_sender=True, by="reviewer")
    return Decision(Action.ARCHIVE, f"overig ({subtype}) volgens een medewerker" + why, notify_sender=False, by="reviewer")
