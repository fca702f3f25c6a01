"""The demo's report: first in Dutch for the secretary and the coordinator, then the technical detail.

Pure functions over plain rows (what :mod:`klachtwacht.queries` returns plus
each message's subject and finished effects), so the wording is tested
without a mail server.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["DemoMessage", "DECISIONS", "STATES", "dutch_report", "technical_report", "recipient_role"]

#: The rules' decisions in the words a secretary uses.
DECISIONS = {
    "register": "registreren",
    "review": "beoordelen",
    "policy": "beleidsvraag",
    "bezwaar": "doorsturen (bezwaar)",
    "woo": "doorsturen (Woo)",
    "archive": "archiveren",
}
#: Where a message stands, in Dutch.
STATES = {
    "done": "afgehandeld",
    "review": "wacht op beoordeling",
    "quarantined": "onleesbaar, bewaard",
    "failed": "mislukt, bewaard",
    "history": "van voor de start",
}
#: What each finished effect did, in Dutch.
EFFECTS = {
    "register": "geregistreerd",
    "notice_sender": "afzender bevestigd",
    "notice_secretary": "secretariaat ingelicht",
    "forward_bezwaar": "naar het bezwaarteam",
    "forward_woo": "naar het Woo-loket",
}


@dataclass(frozen=True)
class DemoMessage:
    """One message as the demo reports it."""

    subject: str | None
    mailboxes: tuple[str, ...]
    state: str
    label: str | None
    confidence: float | None
    decision: str | None
    number: str | None
    effects: tuple[str, ...]  # the effects that were carried out (done), in order


def recipient_role(recipient: str, roles: Mapping[str, str]) -> str:
    """Who a notice went to, by role (``roles`` maps known addresses to roles), never the address."""
    return roles.get(recipient.lower(), "de afzender")


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def dutch_report(messages: Sequence[DemoMessage], sent: Sequence[str], organisation: str) -> str:
    """The summary for the secretary and the coordinator; ``sent`` names the recipient of each sent notice by role."""
    lines = [f"Wat klachtwacht deed met de post van vanochtend ({organisation})", ""]
    lines.append(f"  {'onderwerp':44} {'besluit':21} {'registernummer':15} wat er gebeurde")
    for m in messages:
        decision = DECISIONS.get(m.decision or "", "-") if m.state not in ("quarantined", "failed") else "beoordelen"
        done = ", ".join(dict.fromkeys(EFFECTS[e] for e in m.effects if e in EFFECTS))
        if m.state in ("quarantined", "review", "failed"):
            done = STATES[m.state]
        elif not done:
            done = "geen actie nodig" if m.decision == "archive" else STATES.get(m.state, "nog bezig")
        subject = m.subject or "(onleesbaar bericht)"
        lines.append(f"  {_cut(subject, 44):44} {decision:21} {m.number or '':15} {done}")
    counts = Counter(DECISIONS.get(m.decision or "", "") for m in messages if m.state == "done")
    unreadable = sum(m.state in ("quarantined", "failed") for m in messages)
    waiting = sum(m.state == "review" for m in messages)
    numbers = [m.number for m in messages if m.number]
    lines.append("")
    parts = [f"{len(numbers)} klachten geregistreerd" + (f" ({', '.join(numbers)})" if numbers else "")]
    if counts["beleidsvraag"]:
        parts.append(f"{counts['beleidsvraag']} beleidsvragen naar het secretariaat om te beantwoorden")
    forwarded = counts["doorsturen (bezwaar)"] + counts["doorsturen (Woo)"]
    if forwarded:
        parts.append(f"{forwarded} doorgestuurd naar het juiste team")
    if counts["archiveren"]:
        parts.append(f"{counts['archiveren']} gearchiveerd (geen actie nodig)")
    if waiting or unreadable:
        parts.append(f"{waiting + unreadable} ter beoordeling door het secretariaat")
    lines.append("In het kort: " + "; ".join(parts) + ".")
    if sent:
        by_role = Counter(sent)
        lines.append(f"Verstuurd: {len(sent)} berichten, " + ", ".join(f"{n} aan {role}" for role, n in by_role.most_common()) + ".")
    if unreadable:
        lines.append("Een onleesbaar bericht gaat nooit verloren: het blijft bewaard zoals het binnenkwam.")
    return "\n".join(lines)


def technical_report(messages: Sequence[DemoMessage], details: Mapping[str, Any]) -> str:
    """The same pass for functioneel beheer: states, labels, confidence, decision codes (English)."""
    lines = ["Technical detail (for functioneel beheer)", ""]
    for key, value in details.items():
        lines.append(f"  {key}: {value}")
    lines.append("")
    lines.append(f"  {'state':12} {'label':13} {'conf.':>6}  {'decision':9} mailboxes")
    for m in messages:
        confidence = f"{m.confidence:.0%}" if m.confidence is not None else "-"
        lines.append(f"  {m.state:12} {m.label or '-':13} {confidence:>6}  {m.decision or '-':9} {', '.join(m.mailboxes)}")
    return "\n".join(lines)
