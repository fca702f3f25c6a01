"""Which message does each fetched mail belong to? Pure: decide here, store in klachtwacht.intake.

A mail belongs to the stored message with its key (:func:`ingest.identity.identify`).
Failing that, to a stored message with its Message-ID *and* its fingerprint
(the same text, changed on the way: a tagged subject, an added HTML part).
Otherwise it founds a new message; when another message carries its
Message-ID with other content, the new one records a collision: a web form
or a gateway reuses Message-IDs, and each of those mails must be handled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ingest.identity import Identity

__all__ = ["Match", "Carrier", "match_batch"]


@dataclass(frozen=True)
class Carrier:
    """A stored message that carries a Message-ID: its number and fingerprint."""

    message_pk: int
    fingerprint: str | None


@dataclass(frozen=True)
class Match:
    """Where one mail of a batch goes.

    Either ``message_pk`` (a stored message) or ``founder`` (the index in the
    batch of the mail that founds a new message; a founder points at itself).
    A founder whose Message-ID is carried by other content names the first
    such message: stored (``collides_with``) or founded earlier in this batch
    (``collides_with_founder``).
    """

    message_pk: int | None = None
    founder: int | None = None
    collides_with: int | None = None
    collides_with_founder: int | None = None


def match_batch(
    identities: Sequence[Identity],
    by_key: Mapping[str, int],
    carriers: Mapping[str, Sequence[Carrier]],
) -> list[Match]:
    """Match each mail of a batch, in order, to a stored message or a new one.

    ``by_key`` maps stored keys to message numbers; ``carriers`` lists, per
    Message-ID, the stored messages that carry it, oldest first.
    """
    out: list[Match] = []
    founded_by_key: dict[str, int] = {}
    founded: dict[str, list[tuple[int, str]]] = {}  # Message-ID -> (founder, fingerprint), in order
    for index, identity in enumerate(identities):
        if identity.key in by_key:
            out.append(Match(message_pk=by_key[identity.key]))
            continue
        if identity.key in founded_by_key:
            out.append(Match(founder=founded_by_key[identity.key]))
            continue
        mid = identity.message_id
        stored = list(carriers.get(mid, ())) if mid is not None else []
        same = next((c.message_pk for c in stored if c.fingerprint == identity.fingerprint), None)
        if same is not None:
            out.append(Match(message_pk=same))
            continue
        earlier = founded.get(mid, []) if mid is not None else []
        twin = next((f for f, fingerprint in earlier if fingerprint == identity.fingerprint), None)
        if twin is not None:
            out.append(Match(founder=twin))
            continue
        founded_by_key[identity.key] = index
        if mid is not None:
            founded.setdefault(mid, []).append((index, identity.fingerprint))
        if stored:
            out.append(Match(founder=index, collides_with=stored[0].message_pk))
        elif earlier:
            out.append(Match(founder=index, collides_with_founder=earlier[0][0]))
        else:
            out.append(Match(founder=index))
    return out
