"""Which organisation's register and complaints team gets a complaint.

By default the organisation of the mailbox it landed in. A route sends
complaints about certain topics (Wmo, Jeugdwet, Participatiewet) to another
organisation, such as a shared-service organisation that does that work for
several municipalities.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Route", "Routing", "route"]


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    organisation: str
    topics: tuple[str, ...]
    from_organisations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Routing:
    organisation: str
    route: str | None  # the route's name, None for the mailbox's own organisation
    matched: str | None = None  # the topic word that matched


def route(mailbox_organisation: str, text: str, routes: Sequence[Route]) -> Routing:
    """The first route whose topic words occur in ``text`` as words; else the mailbox's organisation."""
    lowered = text.lower()
    for candidate in routes:
        if candidate.from_organisations and mailbox_organisation not in candidate.from_organisations:
            continue
        for topic in candidate.topics:
            if re.search(r"(?<!\w)" + re.escape(topic.lower()) + r"(?!\w)", lowered):
                return Routing(candidate.organisation, candidate.name, topic)
    return Routing(mailbox_organisation, None)
