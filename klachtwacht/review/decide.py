"""A person's decision on a message, recorded beside the model's prediction in the transaction of its state change.

``record_decision`` claims the message with a compare-and-set on its state
(the same guard the pipeline's steps use), so a second tab, or a second
person, deciding the same message gets :class:`DecisionConflict` and nothing
changes twice. The decision becomes a new plan through
:func:`klachtwacht.flow.decide_again_in`: klacht registers and plans the
letters as the rules say, beleidsvraag is marked for an answer, overig ends
(a bezwaarschrift or Woo request is forwarded). ``undo`` takes a decision back
while every effect it planned is still ``planned``; ``withdraw`` corrects a
registered complaint to "geen klacht", keeping the register entry as
``withdrawn``. Errors carry a Dutch message for the person who acted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from klachtwacht.db.models import Effect, Message, MessageState, RegisterEntry, ReviewDecision, utcnow
from klachtwacht.effects import CANCELLED, DONE, PLANNED, REJECTED, STARTED, cancel, effects_of
from klachtwacht.errors import DecisionConflict, InvalidDecision, ReviewError, UndoRefused
from klachtwacht.flow import Flow, decide_again_in
from klachtwacht.review.labels import SOURCES, check, decision_for
from klachtwacht.states import move
from rules import Action
from rules.plan import Plan

__all__ = ["record_decision", "record_bulk", "undo", "undo_blocker", "withdraw", "record_in", "withdraw_in", "claim", "WITHDRAWN", "STATE_NL", "EFFECT_NL", "EFFECT_DONE_NL"]

#: The register status of a complaint corrected to "geen klacht" (never deleted).
WITHDRAWN = "withdrawn"

#: Register backends with a copy outside our database, which a withdrawal does not reach (yet).
OUTSIDE_REGISTERS = {"zgw": "de zaak in het zaaksysteem", "email": "de melding aan het klachtenteam"}
#: A message's state as a secretary reads it.
STATE_NL = {
    "fetched": "opgehaald", "parsed": "gelezen", "classified": "beoordeeld door het model", "decided": "besloten",
    "registered": "geregistreerd", "notified": "bericht verstuurd", "done": "afgehandeld", "review": "ter beoordeling",
    "quarantined": "in quarantaine", "failed": "mislukt",
}
#: An effect's name as a secretary reads it.
EFFECT_NL = {
    "register": "registratie", "notice_sender": "brief aan de afzender", "notice_secretary": "bericht aan het secretariaat",
    "forward_bezwaar": "doorsturen naar het bezwaarteam", "forward_woo": "doorsturen naar het Woo-loket",
}
#: What an effect that was carried out means, for the refusal of an undo.
EFFECT_DONE_NL = {
    "register": "de klacht is al geregistreerd",
    "notice_sender": "de brief aan de afzender is al verstuurd",
    "notice_secretary": "het secretariaat is al ingelicht",
    "forward_bezwaar": "het bericht is al doorgestuurd naar het bezwaarteam",
    "forward_woo": "het bericht is al doorgestuurd naar het Woo-loket",
}


def _actor(actor: str) -> str:
    return f"reviewer:{actor}"


def claim(session: Session, message_pk: int, expected_state: str) -> Message:
    """The message, locked for this transaction when it is still in ``expected_state``; :class:`DecisionConflict` otherwise.

    A no-op compare-and-set update: on PostgreSQL a concurrent claim waits
    for this transaction and then finds the state changed; on SQLite the
    write lock does the same.
    """
    claimed = session.execute(
        update(Message).where(Message.id == message_pk, Message.state == expected_state).values(state=expected_state).execution_options(synchronize_session=False)
    )
    message = session.get(Message, message_pk)
    if message is None:
        raise ReviewError(f"bericht {message_pk} bestaat niet")
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.expire(message)
        raise DecisionConflict(f"dit bericht is intussen al behandeld (nu: {STATE_NL.get(message.state, message.state)}); er is niets veranderd")
    session.refresh(message)
    return message


def _revive(session: Session, message_pk: int, plan: Plan) -> None:
    """Rows of the new plan that an earlier undo cancelled are planned again (they were never carried out)."""
    wanted = {e.key for e in plan.effects if e.skip is None}
    for row in effects_of(session, message_pk):
        if row.status == CANCELLED and (row.effect, row.recipient) in wanted:
            row.status, row.detail, row.done_at, row.attempts = PLANNED, None, None, 0


def _row(message: Message, *, label: str, subtype: str | None, reason: str | None, answerer: str | None, actor: str, source: str, at: datetime) -> ReviewDecision:
    return ReviewDecision(
        message_pk=message.id, at=at, actor=actor, source=source,
        predicted_label=message.label, predicted_subtype=message.subtype, confidence=message.confidence, model=message.model,
        final_label=label, final_subtype=subtype, reason=reason, answerer=answerer, previous_state=message.state,
    )


def record_in(
    session: Session, flow: Flow | None, message: Message, *, label: str, subtype: str | None, reason: str | None, answerer: str | None, actor: str, source: str, apply: bool = True,
) -> int:
    """Record the (checked) decision on a claimed ``message`` inside the caller's transaction; with ``apply`` make its plan."""
    row = _row(message, label=label, subtype=subtype, reason=reason, answerer=answerer, actor=actor, source=source, at=utcnow())
    session.add(row)
    session.flush()
    if apply:
        if flow is None:
            raise ValueError("record_in needs the flow to apply a decision")
        new = decide_again_in(session, flow, message, decision_for(label, subtype, reason, answerer), actor=_actor(actor))
        _revive(session, message.id, new)
    return row.id


def record_decision(
    sessions: sessionmaker[Session],
    flow: Flow,
    message_pk: int,
    *,
    label: str,
    subtype: str | None = None,
    reason: str | None = None,
    answerer: str | None = None,
    actor: str,
    source: str = "review",
    expected_state: str = MessageState.REVIEW,
) -> int:
    """Decide ``message_pk`` as ``label`` and carry it out as the rules say; returns the ReviewDecision's id.

    Raises :class:`InvalidDecision` (incomplete, nothing changed) and
    :class:`DecisionConflict` (the message left ``expected_state`` meanwhile,
    nothing changed). The message is then ``decided`` (work in the outbox for
    the worker), ``done`` (overig) or, when the new plan needs a person after
    all, ``review`` again.
    """
    if source not in SOURCES:
        raise InvalidDecision(f"onbekende bron {source!r}")
    label, subtype, answerer = check(label, subtype, answerer)
    reason = (reason or "").strip() or None
    with sessions.begin() as session:
        message = claim(session, message_pk, expected_state)
        return record_in(session, flow, message, label=label, subtype=subtype, reason=reason, answerer=answerer, actor=actor, source=source)


def record_bulk(
    sessions: sessionmaker[Session], flow: Flow, message_pks: Iterable[int], *, subtype: str, actor: str, reason: str | None = None,
) -> dict[int, int | str]:
    """Decide many messages in review as ``overig`` (the only bulk decision), each in its own transaction.

    Returns, per message, the ReviewDecision's id, or the Dutch reason it was
    not decided (decided meanwhile by someone else); the others go through.
    """
    check("overig", subtype)
    out: dict[int, int | str] = {}
    for pk in dict.fromkeys(message_pks):
        try:
            out[pk] = record_decision(sessions, flow, pk, label="overig", subtype=subtype, reason=reason, actor=actor)
        except (DecisionConflict, ReviewError) as exc:
            out[pk] = str(exc)
    return out


def undo(sessions: sessionmaker[Session], flow: Flow, decision_id: int, *, actor: str) -> None:
    """Take back a review decision while all its effects are still planned: cancel them, the message back to ``review``.

    :class:`UndoRefused` says what already happened (a letter sent, the
    complaint registered, a later decision); :class:`DecisionConflict` when it
    was undone already. Nothing changes when it is refused.
    """
    del flow  # the same signature as record_decision: the web passes what it has
    with sessions.begin() as session:
        taken = session.execute(
            update(ReviewDecision).where(ReviewDecision.id == decision_id, ReviewDecision.undone_at.is_(None)).values(undone_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        row = session.get(ReviewDecision, decision_id)
        if row is None:
            raise ReviewError(f"besluit {decision_id} bestaat niet")
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            raise DecisionConflict("dit besluit is al teruggedraaid")
        session.refresh(row)
        blocker = _blocker(session, row)
        if blocker is not None:
            raise UndoRefused(blocker)
        message = session.get(Message, row.message_pk)
        assert message is not None
        ours = _effects_since(session, row)
        for effect in ours:
            if effect.status == PLANNED and not cancel(session, effect.id, f"besluit teruggedraaid door {actor}"):
                raise UndoRefused("terugdraaien kan niet meer: de uitvoering is net begonnen")
        if message.state != MessageState.REVIEW:
            move(session, message, MessageState.REVIEW, actor=_actor(actor), reason=f"besluit teruggedraaid door {actor}")
        message.decision, message.decided_by, message.decision_reason = Action.REVIEW, "model", f"besluit teruggedraaid door {actor}: opnieuw ter beoordeling"


def _effects_since(session: Session, row: ReviewDecision) -> list[Effect]:
    """The outbox rows the decision wrote (or that were claimed since it)."""
    return [e for e in effects_of(session, row.message_pk) if e.started_at >= row.at]


def _blocker(session: Session, row: ReviewDecision) -> str | None:
    """Why ``row`` cannot be undone (Dutch), or None."""
    if row.source != "review":
        return "alleen een beoordeling uit de wachtrij kan worden teruggedraaid; corrigeer een steekproef of een registratie opnieuw"
    later = session.scalar(
        select(ReviewDecision.id).where(ReviewDecision.message_pk == row.message_pk, ReviewDecision.id > row.id, ReviewDecision.undone_at.is_(None))
    )
    if later is not None:
        return "er is daarna opnieuw over dit bericht besloten; draai dat besluit terug"
    happened = [e for e in _effects_since(session, row) if e.status in (STARTED, DONE, REJECTED)]
    entry = session.scalar(select(RegisterEntry).where(RegisterEntry.message_pk == row.message_pk, RegisterEntry.created_at >= row.at))
    if happened or entry is not None:
        return "terugdraaien kan niet meer: " + _what_happened(happened, entry)
    return None


def undo_blocker(sessions: sessionmaker[Session], decision_id: int) -> str | None:
    """Why :func:`undo` would refuse ``decision_id`` now (Dutch, for the page), or None when it can be undone."""
    with sessions() as session:
        row = session.get(ReviewDecision, decision_id)
        if row is None:
            return f"besluit {decision_id} bestaat niet"
        if row.undone_at is not None:
            return "dit besluit is al teruggedraaid"
        return _blocker(session, row)


def _what_happened(effects: list[Effect], entry: RegisterEntry | None) -> str:
    said: list[str] = []
    if entry is not None:
        said.append(f"de klacht staat al in het register als {entry.number}")
    for effect in effects:
        name = EFFECT_NL.get(effect.effect, effect.effect)
        if effect.status == STARTED:
            text = f"{name}: wordt op dit moment uitgevoerd"
        elif effect.status == REJECTED:
            text = f"{name}: al geprobeerd en geweigerd"
        else:
            text = EFFECT_DONE_NL.get(effect.effect, effect.effect)
        if effect.effect != "register" or entry is None:
            said.append(text)
    return "; ".join(dict.fromkeys(said)) or "het besluit is al uitgevoerd"


def withdraw_in(
    session: Session, message: Message, *, reason: str, actor: str, label: str, subtype: str | None, source: str, answerer: str | None = None,
) -> int:
    """:func:`withdraw` on ``message`` inside the caller's transaction; returns the ReviewDecision's id."""
    pk = message.id
    rows = effects_of(session, pk)
    if any(r.effect == "register" and r.status == STARTED for r in rows):
        raise UndoRefused("de registratie van deze klacht loopt nog; probeer het over een minuut opnieuw")
    withdrawn = session.execute(
        update(RegisterEntry).where(RegisterEntry.message_pk == pk, RegisterEntry.status != WITHDRAWN).values(status=WITHDRAWN, closed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if withdrawn.rowcount != 1:  # type: ignore[attr-defined]
        entry = session.scalar(select(RegisterEntry).where(RegisterEntry.message_pk == pk))
        if entry is not None:
            raise DecisionConflict(f"klacht {entry.number} is al ingetrokken")
        if not any(r.effect == "register" and r.status == PLANNED for r in rows):
            raise ReviewError("dit bericht staat niet als klacht in het register")
    for row in rows:
        if row.status == PLANNED and not cancel(session, row.id, f"geen klacht volgens {actor}: {reason}"):
            raise UndoRefused("een brief over dit bericht wordt op dit moment verstuurd; probeer het over een minuut opnieuw")
    decision_id = record_in(session, None, message, label=label, subtype=subtype, reason=reason, answerer=answerer, actor=actor, source=source, apply=False)
    if message.state != MessageState.DONE:
        move(session, message, MessageState.DONE, actor=_actor(actor), reason=f"geen klacht volgens {actor}: {reason}")
    message.decision = Action.POLICY if label == "beleidsvraag" else Action.ARCHIVE
    note = ""
    entry = session.scalar(select(RegisterEntry).where(RegisterEntry.message_pk == pk))
    if entry is not None and entry.backend in OUTSIDE_REGISTERS:
        note = f"; let op: {OUTSIDE_REGISTERS[entry.backend]} ({entry.number}) is niet aangepast, trek die daar in"
    message.decided_by, message.decision_reason = "reviewer", f"geen klacht (gecorrigeerd door {actor}): {reason}{note}"
    return decision_id


def withdraw(
    sessions: sessionmaker[Session], message_pk: int, *, reason: str, actor: str, label: str = "overig", subtype: str | None = "overig", answerer: str | None = None,
) -> int:
    """The coordinator corrects a registered complaint to "geen klacht"; returns the ReviewDecision's id (source ``correction``).

    The register entry gets status ``withdrawn`` (never deleted), planned
    letters are cancelled, the message ends ``done``; the reason is kept on
    the ReviewDecision and in the message's history. Letters already sent
    stay sent. With the ``zgw`` or ``email`` register the outside copy is not
    touched (the zaak stays open; the complaints team is not mailed).
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidDecision("geef een reden waarom dit geen klacht is")
    label, subtype, answerer = check(label, subtype, answerer)
    if label == "klacht":
        raise InvalidDecision("kies beleidsvraag of overig: intrekken betekent dat het geen klacht is")
    with sessions.begin() as session:
        message = session.get(Message, message_pk)
        if message is None:
            raise ReviewError(f"bericht {message_pk} bestaat niet")
        message = claim(session, message_pk, message.state)
        return withdraw_in(session, message, reason=reason, actor=actor, label=label, subtype=subtype, source="correction", answerer=answerer)
