"""Jinja filters for Dutch pages: dates, percentages, labels."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from jinja2 import Environment

from rules.deadlines import AMSTERDAM

__all__ = ["install", "LABEL_NL", "MONTHS"]

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december")
LABEL_NL = {"klacht": "klacht", "beleidsvraag": "beleidsvraag", "overig": "overig", None: "geen"}


def datum(value: date | datetime | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        value = value.astimezone(AMSTERDAM).date()
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def tijd(value: datetime | None) -> str:
    if value is None:
        return "–"
    local = value.astimezone(AMSTERDAM)
    return f"{datum(local)} {local:%H:%M}"


def procent(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 100:.0f}%"


def label(value: Any) -> str:
    return LABEL_NL.get(value, str(value))


def objectnaam(value: str) -> str:
    """An audit object (``user ria``, ``mailbox griffie``) in Dutch."""
    kind, _, name = value.partition(" ")
    words = {"message": "bericht", "user": "gebruiker", "mailbox": "postbus"}
    return f"{words[kind]} {name}" if kind in words and name else value


def wie(actor: str) -> str:
    """Who made a step in a message's history, as a secretary reads it: klachtwacht itself, or the person by name.

    The worker and the poller record their process (``ingest:host:pid:thread``)
    for IT staff; the audit log keeps that, this page needs none of it.
    """
    if actor == "worker":
        return "klachtwacht"
    if actor.startswith("ingest:"):
        return "klachtwacht (ophalen)"
    return actor


def install(env: Environment) -> None:
    env.filters.update(datum=datum, tijd=tijd, procent=procent, label=label, objectnaam=objectnaam, wie=wie)
