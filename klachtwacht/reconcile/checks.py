"""The checks of the store: pure functions from facts to findings.

Each check takes the frozen :class:`~klachtwacht.reconcile.facts.Facts`, the
settings and the moment of the run, and returns findings (Dutch details, no
personal data). Repairs are decided here and done by the caller: a stuck
message is re-enqueued (``Finding.repaired`` is set by whoever did it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from klachtwacht.reconcile.calendar import week_info, week_start, working_days_between
from klachtwacht.reconcile.facts import EffectFact, Facts, MessageFact
from klachtwacht.reconcile.findings import Finding
from klachtwacht.reconcile.volume import VolumeVerdict, WeekCount, detect_drop, explain, silent_gap
from rules.deadlines import local_date

__all__ = ["Settings", "ChannelVolume", "store_findings", "volume_findings", "channel_volumes", "stuck_messages"]

#: States whose names a coordinator reads, in Dutch.
STATE_NL = {
    "fetched": "opgehaald",
    "parsed": "gelezen",
    "classified": "beoordeeld door het model",
    "decided": "besloten",
    "registered": "geregistreerd",
    "notified": "bericht verstuurd",
}
EFFECT_NL = {
    "register": "registratie",
    "notice_sender": "brief aan de afzender",
    "notice_secretary": "bericht aan het secretariaat",
    "notice_extension": "brief over de verdaging",
}


@dataclass(frozen=True, slots=True)
class Settings:
    """The knobs of reconciliation (``[reconcile]`` in the configuration)."""

    stuck_minutes: float = 60.0
    review_working_days: int = 2
    deadline_warn_days: int = 7
    region: str = "midden"
    volume_weeks: int = 156  # how much weekly history the drop detector reads
    volume_years: float = 5.0  # at most one false alarm per this many channel-years


def _by_mailbox(items: Iterable[MessageFact | EffectFact]) -> dict[str | None, list[int]]:
    grouped: dict[str | None, list[int]] = defaultdict(list)
    for item in items:
        pk = item.id if isinstance(item, MessageFact) else item.message_pk
        if pk not in grouped[item.mailbox]:
            grouped[item.mailbox].append(pk)
    return grouped


def _count(n: int, one: str, many: str) -> str:
    return "%d %s" % (n, one if n == 1 else many)


def stuck_messages(facts: Facts, settings: Settings, now: datetime) -> list[MessageFact]:
    """Messages in an unfinished state for longer than the limit."""
    limit = now - timedelta(minutes=settings.stuck_minutes)
    return [m for m in facts.unfinished if m.since < limit]


def _stuck(facts: Facts, settings: Settings, now: datetime) -> list[Finding]:
    out = []
    stuck = stuck_messages(facts, settings, now)
    for mailbox, pks in sorted(_by_mailbox(stuck).items(), key=lambda kv: kv[0] or ""):
        states = sorted({STATE_NL.get(m.state, m.state) for m in stuck if m.id in pks})
        detail = "%s langer dan %d minuten onderweg (stap: %s); opnieuw in de wachtrij gezet." % (
            _count(len(pks), "bericht", "berichten"), settings.stuck_minutes, ", ".join(states))
        out.append(Finding("stuck", "warning", detail, mailbox, tuple(pks)))
    return out


def _reasons(items: list[MessageFact]) -> str:
    reasons = sorted({(m.last_error or "geen reden bewaard").split("\n")[0][:160] for m in items})
    shown = "; ".join(reasons[:3])
    return shown + ("; ..." if len(reasons) > 3 else "")


def _given_up(facts: Facts) -> list[Finding]:
    out = []
    for kind, items, severity, text in (
        ("failed", facts.failed, "critical", "verwerking opgegeven"),
        ("quarantined", facts.quarantined, "warning", "niet te lezen; de oorspronkelijke mail is bewaard en wacht op een medewerker"),
    ):
        for mailbox, pks in sorted(_by_mailbox(items).items(), key=lambda kv: kv[0] or ""):
            group = [m for m in items if m.id in pks]
            detail = "%s %s. Reden: %s." % (_count(len(pks), "bericht", "berichten"), text, _reasons(group))
            out.append(Finding(kind, severity, detail, mailbox, tuple(pks)))
    return out


def _register(facts: Facts, settings: Settings, now: datetime) -> list[Finding]:
    out = []
    for mailbox, pks in sorted(_by_mailbox(facts.unregistered).items(), key=lambda kv: kv[0] or ""):
        detail = "%s als klacht afgehandeld zonder registratie in het klachtenregister." % _count(len(pks), "bericht is", "berichten zijn")
        out.append(Finding("register_missing", "critical", detail, mailbox, tuple(pks)))
    limit = now - timedelta(minutes=settings.stuck_minutes)
    late = [e for e in facts.open_effects if e.started_at < limit]
    for mailbox, pks in sorted(_by_mailbox(late).items(), key=lambda kv: kv[0] or ""):
        kinds = sorted({EFFECT_NL.get(e.effect.split(":")[0], e.effect) for e in late if e.message_pk in pks})
        detail = "%s niet uitgevoerd na %d minuten (%s); het wordt opnieuw geprobeerd." % (
            _count(len(pks), "handeling is", "handelingen zijn"), settings.stuck_minutes, ", ".join(kinds))
        out.append(Finding("effect_missing", "critical", detail, mailbox, tuple(pks)))
    return out


def _review(facts: Facts, settings: Settings, today: date) -> list[Finding]:
    old = [m for m in facts.review if working_days_between(local_date(m.since), today) > settings.review_working_days]
    out = []
    for mailbox, pks in sorted(_by_mailbox(old).items(), key=lambda kv: kv[0] or ""):
        oldest = min(local_date(m.since) for m in old if m.id in pks)
        detail = "%s langer dan %d werkdagen op beoordeling; het oudste sinds %s." % (
            _count(len(pks), "bericht wacht", "berichten wachten"), settings.review_working_days, oldest.strftime("%d-%m-%Y"))
        out.append(Finding("review_backlog", "warning", detail, mailbox, tuple(pks)))
    return out


def _deadlines(facts: Facts, settings: Settings, today: date) -> list[Finding]:
    out = []
    soon = today + timedelta(days=settings.deadline_warn_days)
    for entry in facts.open_entries:
        due = entry.extended_due or entry.due
        extended = " (verdaagd)" if entry.extended_due else ""
        if due < today:
            detail = "Klacht %s: de termijn%s is op %s verstreken (Awb 9:11)." % (entry.number, extended, due.strftime("%d-%m-%Y"))
            out.append(Finding("deadline_overdue", "critical", detail, entry.mailbox, (entry.message_pk,)))
        elif due <= soon:
            detail = "Klacht %s: de termijn%s verloopt op %s (Awb 9:11)." % (entry.number, extended, due.strftime("%d-%m-%Y"))
            out.append(Finding("deadline_due", "warning", detail, entry.mailbox, (entry.message_pk,)))
        if today <= entry.refusal_due <= soon:
            detail = "Klacht %s: een besluit om de klacht niet te behandelen (Awb 9:8) moet uiterlijk %s worden genomen." % (
                entry.number, entry.refusal_due.strftime("%d-%m-%Y"))
            out.append(Finding("refusal_pending", "info", detail, entry.mailbox, (entry.message_pk,)))
    return out


def store_findings(facts: Facts, settings: Settings, now: datetime, today: date | None = None) -> list[Finding]:
    """Every finding about the store: pipeline, register, effects, review and deadlines.

    ``now`` is the moment of the run (for what is stuck); ``today`` the day
    reconciled (for deadlines and the review backlog), by default ``now``'s.
    """
    today = today or local_date(now)
    return [
        *_stuck(facts, settings, now),
        *_given_up(facts),
        *_register(facts, settings, now),
        *_review(facts, settings, today),
        *_deadlines(facts, settings, today),
    ]


@dataclass(frozen=True, slots=True)
class ChannelVolume:
    """One mailbox's weekly volume by label, and what the detector made of it."""

    mailbox: str
    weeks: tuple[WeekCount, ...]  # all labels together
    by_label: dict[str, tuple[int, ...]]  # label -> counts, aligned with ``weeks``
    verdict: VolumeVerdict
    klacht_verdict: VolumeVerdict


def channel_volumes(facts: Facts, settings: Settings, today: date, mailboxes: Iterable[str]) -> list[ChannelVolume]:
    """Weekly counts per mailbox for the complete weeks before ``today``'s week, with verdicts."""
    last_monday = week_start(today) - timedelta(days=7)
    first_monday = last_monday - timedelta(weeks=settings.volume_weeks - 1)
    out = []
    for mailbox in mailboxes:
        days = facts.daily.get(mailbox, {})
        if not days:
            continue
        start = max(first_monday, week_start(min(days)))
        series: list[WeekCount] = []
        labels: dict[str, list[int]] = defaultdict(list)
        names = sorted({label for counts in days.values() for label in counts})
        monday = start
        while monday <= last_monday:
            week = week_info(monday, settings.region)
            totals: dict[str, int] = defaultdict(int)
            for offset in range(7):
                for label, n in days.get(monday + timedelta(days=offset), {}).items():
                    totals[label] += n
            series.append(WeekCount(week, sum(totals.values())))
            for label in names:
                labels[label].append(totals.get(label, 0))
            monday += timedelta(days=7)
        if not series:
            continue
        klacht = [WeekCount(w.week, n) for w, n in zip(series, labels.get("klacht", [0] * len(series)))]
        out.append(ChannelVolume(mailbox, tuple(series), {k: tuple(v) for k, v in labels.items()},
                                 detect_drop(series, years=settings.volume_years), detect_drop(klacht, years=settings.volume_years)))
    return out


def volume_findings(volumes: Iterable[ChannelVolume], facts: Facts, settings: Settings, today: date) -> list[Finding]:
    """Drops in weekly volume, and channels silent for longer than chance allows."""
    out = []
    for channel in volumes:
        silent = _silent(channel, facts, today)
        if silent is not None:
            out.append(silent)
            continue  # a silent channel is its own, louder finding
        for verdict, name in ((channel.verdict, channel.mailbox), (channel.klacht_verdict, "%s (klachten)" % channel.mailbox)):
            if verdict.status == "drop":
                out.append(Finding("volume_drop", "warning", explain(verdict, name), channel.mailbox))
    return out


def _silent(channel: ChannelVolume, facts: Facts, today: date) -> Finding | None:
    """A channel without a single message for longer than its usual rate makes plausible."""
    days = facts.daily.get(channel.mailbox, {})
    if not days:
        return None
    last = max(days)
    before = [w.count / w.week.exposure for w in channel.weeks
              if w.week.start < week_start(last) and not w.week.holiday and w.week.working_days][-26:]
    if len(before) < 8:
        return None
    expected = sum(before) / len(before)
    quiet = working_days_between(last, today - timedelta(days=1))
    if not silent_gap(quiet, expected):
        return None
    detail = "%s: al %d werkdagen geen enkel bericht, waar er gewoonlijk %.0f per week binnenkomen. Controleer of de mailbox nog mail ontvangt." % (
        channel.mailbox, quiet, expected)
    return Finding("volume_silent", "critical", detail, channel.mailbox)
