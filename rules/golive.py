"""Going live, pure: the start date, the age guard and the modes, as reasons a plan is held back.

Nothing here reads a clock or a database: the caller hands in the moment
of receipt (INTERNALDATE), the start that applies to the message's mailbox,
the mode and ``now``. Each function returns the Dutch reason for holding
back, or None when nothing stands in the way.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from rules.deadlines import AMSTERDAM, local_date

__all__ = ["MODES", "SHADOW", "CONFIRM", "AUTO", "start_moment", "history_reason", "age_reason", "confirm_reason", "answered_reason", "dutch_date"]

SHADOW, CONFIRM, AUTO = "shadow", "confirm", "auto"
#: shadow: plan and record, perform nothing; confirm: a person confirms every plan first; auto: as planned.
MODES = (SHADOW, CONFIRM, AUTO)

_MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december")


def dutch_date(day: date, *, year: bool = False) -> str:
    """``3 maart`` (or ``3 maart 2026`` with ``year``)."""
    text = f"{day.day} {_MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if year else text


def start_moment(start: date | None, first_poll_at: datetime | None) -> datetime | None:
    """The moment before which mail is history: midnight (Dutch time) of a start date, else the folder's first poll.

    None when neither is known (a folder read before klachtwacht knew of
    start dates): then no mail is history.
    """
    if start is not None:
        return datetime.combine(start, time(0, 0), tzinfo=AMSTERDAM)
    # INTERNALDATE has whole seconds: mail that came in the same second as the first poll, after it, is
    # stamped earlier than the poll. Counted from the whole second, it is new (never silently history).
    return first_poll_at.replace(microsecond=0) if first_poll_at is not None else None


def history_reason(received_at: datetime, start: datetime | None) -> str | None:
    """Why a message is history (received before the start), or None."""
    if start is None or received_at >= start:
        return None
    return (
        f"ontvangen op {dutch_date(local_date(received_at), year=True)}, vóór de start van klachtwacht "
        f"({dutch_date(local_date(start), year=True)}): bewaard en geclassificeerd, niet geregistreerd of beantwoord"
    )


def age_reason(received_at: datetime, now: datetime, max_age_days: int | None) -> str | None:
    """Why an old message gets no automatic letter (the age guard), or None."""
    if not max_age_days:
        return None
    age = now - received_at
    if age <= timedelta(days=max_age_days):
        return None
    days = age.days
    return f"ontvangen op {dutch_date(local_date(received_at))}, {days} dagen geleden: geen automatische ontvangstbevestiging"


def confirm_reason(mode: str) -> str | None:
    """In ``confirm`` mode a person confirms every plan before anything is registered or sent."""
    if mode != CONFIRM:
        return None
    return "bevestigingsmodus: een secretaris bevestigt eerst, daarna wordt geregistreerd en verstuurd"


def answered_reason(answered: bool) -> str | None:
    """The mailbox owner had answered it before klachtwacht saw it: the letter waits for a person."""
    if not answered:
        return None
    return "de eigenaar van de mailbox had dit bericht al beantwoord voordat klachtwacht het zag: geregistreerd, de brief aan de afzender wacht op bevestiging"
