"""What reconciliation reports: findings, each with its kind, severity and messages.

The JSON form is the contract of ``klachtwacht reconcile --json``: one object
with ``date``, ``clean`` and ``findings``; each finding with ``kind``,
``severity`` (info, warning, critical), ``mailbox`` (or null), ``messages``
(internal ids), ``repaired`` and ``detail`` (Dutch).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

__all__ = ["SEVERITIES", "KINDS", "Finding", "Report"]

SEVERITIES = ("info", "warning", "critical")

#: Every kind of finding, with its Dutch heading for the coordinator's report.
KINDS = {
    "mailbox_unreachable": "Mailbox niet bereikbaar",
    "mailbox_missing_messages": "Berichten op de server die niet waren opgehaald",
    "uidvalidity_changed": "Map op de server opnieuw genummerd",
    "stuck": "Berichten die bleven steken",
    "failed": "Berichten waarvan de verwerking is opgegeven",
    "quarantined": "Berichten die niet te lezen waren",
    "register_missing": "Klachten zonder registratie",
    "register_zaak_missing": "Zaken verdwenen uit het zaaksysteem",
    "register_unreachable": "Zaaksysteem niet bereikbaar",
    "effect_missing": "Brieven of registraties die niet zijn uitgevoerd",
    "review_backlog": "Berichten die te lang op beoordeling wachten",
    "deadline_due": "Klachten met een termijn die binnen 7 dagen verloopt",
    "deadline_overdue": "Klachten waarvan de termijn is verstreken",
    "refusal_pending": "Klachten waarover nog besloten moet worden of ze in behandeling worden genomen (Awb 9:8)",
    "volume_drop": "Minder berichten dan gewoonlijk",
    "volume_silent": "Kanaal stil",
    "canary_missing": "Testbericht niet aangekomen",
    "canary_not_sent": "Testbericht niet verstuurd",
    "retention": "Bewaartermijn verstreken",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing that is not as it should be (or, as ``info``, worth knowing)."""

    kind: str
    severity: str
    detail: str  # Dutch, for the coordinator; never a body, subject or address
    mailbox: str | None = None
    messages: tuple[int, ...] = ()
    repaired: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError("unknown finding kind %r" % self.kind)
        if self.severity not in SEVERITIES:
            raise ValueError("unknown severity %r" % self.severity)

    def as_repaired(self, detail: str | None = None) -> Finding:
        return replace(self, repaired=True, detail=detail or self.detail)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "mailbox": self.mailbox,
            "messages": list(self.messages),
            "repaired": self.repaired,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class Report:
    """The result of one reconciliation run."""

    date: date
    findings: tuple[Finding, ...]
    volumes: tuple[Any, ...] = field(default=(), compare=False)  # per-channel volume series for the report

    @property
    def clean(self) -> bool:
        """True when nothing needs a person: no warning and no critical finding."""
        return not any(f.severity != "info" for f in self.findings)

    @property
    def exit_code(self) -> int:
        return 0 if self.clean else 1

    def to_dict(self) -> dict[str, Any]:
        order = {s: i for i, s in enumerate(reversed(SEVERITIES))}
        findings = sorted(self.findings, key=lambda f: (order[f.severity], f.kind, f.mailbox or ""))
        return {"date": self.date.isoformat(), "clean": self.clean, "findings": [f.to_dict() for f in findings]}
