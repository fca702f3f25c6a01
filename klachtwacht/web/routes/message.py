"""``GET /berichten/{id}``: one message with the suggestion, its history and the decision form; the POSTs that decide.

A message the signed-in user may not see answers 404, exactly like one
that does not exist, and leaves a line in the audit log.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from klachtwacht.db.models import Message, MessageState, RegisterEntry, ReviewDecision, Sample, Transition, utcnow
from klachtwacht.web import queue as review_queue
from klachtwacht.web.access import mailboxes_of, visible_message
from klachtwacht.web.guard import Ctx, error_page, page, render
from rules.deadlines import local_date

__all__ = ["routes", "NOT_FOUND"]

NOT_FOUND = "Dit bericht bestaat niet of u heeft er geen toegang toe."
CONFLICT_TITLE = "Dit bericht is al behandeld"


def _pk(request: Request) -> int:
    try:
        return int(request.path_params["pk"])
    except (KeyError, ValueError):
        return 0


def _not_found(request: Request, ctx: Ctx, pk: int, action: str) -> Response:
    ctx.audit(action, "not-found", object=f"message {pk}" if pk else request.url.path[:200])
    return error_page(request, 404, "Niet gevonden", NOT_FOUND, ctx=ctx)


def _open_sample(session: Session, ctx: Ctx, pk: int) -> Sample | None:
    if not ctx.account.is_coordinator:
        return None
    return session.scalar(select(Sample).where(Sample.message_pk == pk, Sample.decision_id.is_(None)))


def _context(session: Session, ctx: Ctx, message: Message) -> dict[str, Any]:
    from klachtwacht.review.decide import EFFECT_NL, STATE_NL
    from klachtwacht.review.labels import OVERIG_SUBTYPES

    parsed = message.parsed or {}
    history = session.scalars(select(Transition).where(Transition.message_pk == message.id).order_by(Transition.id)).all()
    decisions = session.scalars(select(ReviewDecision).where(ReviewDecision.message_pk == message.id).order_by(ReviewDecision.id)).all()
    entry = session.scalar(select(RegisterEntry).where(RegisterEntry.message_pk == message.id))
    sample = _open_sample(session, ctx, message.id)
    due, left = review_queue.days_left(message.received_at, local_date(utcnow()))
    from klachtwacht.effects import effects_of
    from klachtwacht.review.decide import undo_blocker

    last = decisions[-1] if decisions else None
    blocker = undo_blocker(ctx.web.sessions, last.id) if last is not None and last.undone_at is None and last.source == "review" else None
    return {
        "undo_blocker": blocker,
        "message": message, "mailboxes": mailboxes_of(session, message.id), "text": parsed.get("text") or "",
        "attachments": parsed.get("attachments") or [], "sender": parsed.get("sender") or {}, "history": history,
        "decisions": decisions, "entry": entry, "sample": sample, "due": due, "days_left": left,
        "decidable": message.state == MessageState.REVIEW or sample is not None, "state_nl": STATE_NL, "effect_nl": EFFECT_NL,
        "effects": effects_of(session, message.id), "overig_subtypes": OVERIG_SUBTYPES,
        "withdrawable": ctx.account.is_coordinator and entry is not None and entry.status != "withdrawn",
        "html_body": True, "attachment_links": message.purged_at is None,
    }


@page
async def show(request: Request, ctx: Ctx) -> Response:
    pk = _pk(request)
    with ctx.web.sessions() as session:
        message = visible_message(session, ctx.account, pk)
        if message is None:
            return _not_found(request, ctx, pk, "view-message")
        context = _context(session, ctx, message)
        mailbox = request.query_params.get("postbus")
        context["mailbox"] = mailbox if mailbox in ctx.account.mailboxes else None
        context["next_id"] = review_queue.next_after(session, ctx.account.mailboxes, mailbox=context["mailbox"], after=pk)
        context["title"] = message.subject or "(geen onderwerp)"
    ctx.audit("view-message", "ok", object=f"message {pk}")
    return render(request, "message.html", {**context, "notice": request.query_params.get("gedaan")}, ctx=ctx)


def _after(ctx: Ctx, pk: int, *, go_next: bool, mailbox: str | None) -> str:
    suffix = f"postbus={mailbox}" if mailbox else ""
    if go_next:
        with ctx.web.sessions() as session:
            following = review_queue.next_after(session, ctx.account.mailboxes, mailbox=mailbox, after=pk)
        if following is not None:
            return f"/berichten/{following}?gedaan={pk}" + (f"&{suffix}" if suffix else "")
        return "/?klaar=1" + (f"&{suffix}" if suffix else "")
    return f"/berichten/{pk}?gedaan=besluit" + (f"&{suffix}" if suffix else "")


@page
async def decide(request: Request, ctx: Ctx) -> Response:
    """Record the decision: klacht, beleidsvraag (who answers) or overig (with its sub-type)."""
    from klachtwacht.errors import DecisionConflict, InvalidDecision, ReviewError
    from klachtwacht.review import decide as review

    pk = _pk(request)
    with ctx.web.sessions() as session:
        message = visible_message(session, ctx.account, pk)
        sample = _open_sample(session, ctx, pk) if message is not None else None
        if message is None:
            return _not_found(request, ctx, pk, "decide")
        expected = MessageState.REVIEW if sample is None else message.state
    label = ctx.field("label")
    mailbox = ctx.field("postbus") or None
    mailbox = mailbox if mailbox in ctx.account.mailboxes else None
    subtype = ctx.field("soort_" + label) or None if label else None
    try:
        if sample is not None:
            from klachtwacht.review import steekproef

            decision_id = steekproef.confirm_sample(
                ctx.web.sessions, ctx.web.flow, sample.id, label=label, subtype=subtype, reason=ctx.field("reden") or None,
                answerer=ctx.field("beantwoorder") or None, actor=ctx.account.name,
            )
        else:
            decision_id = review.record_decision(
                ctx.web.sessions, ctx.web.flow, pk, label=label, subtype=subtype, reason=ctx.field("reden") or None,
                answerer=ctx.field("beantwoorder") or None, actor=ctx.account.name, expected_state=expected,
            )
    except DecisionConflict as exc:
        ctx.audit("decide", "conflict", object=f"message {pk}")
        return error_page(request, 409, CONFLICT_TITLE, f"{exc}. Iemand anders (of u in een ander tabblad) heeft al over dit bericht besloten.", ctx=ctx)
    except (InvalidDecision, ReviewError) as exc:
        ctx.audit("decide", "invalid", object=f"message {pk}")
        return error_page(request, 400, "Besluit niet compleet", f"{exc}. Er is niets veranderd; ga terug en vul het aan.", ctx=ctx)
    ctx.audit("decide", "ok", object=f"message {pk}", detail=f"decision {decision_id}: {label}" + (f"/{subtype}" if subtype else ""))
    ctx.web.kick(pk)
    return RedirectResponse(_after(ctx, pk, go_next=ctx.field("volgende") == "1", mailbox=mailbox), status_code=303)


@page
async def undo(request: Request, ctx: Ctx) -> Response:
    from klachtwacht.errors import DecisionConflict, ReviewError, UndoRefused
    from klachtwacht.review import decide as review

    pk = _pk(request)
    decision_id = int(ctx.field("besluit") or 0) if ctx.field("besluit").isdigit() else 0
    with ctx.web.sessions() as session:
        message = visible_message(session, ctx.account, pk)
        row = session.get(ReviewDecision, decision_id) if message is not None else None
        if message is None or row is None or row.message_pk != pk:
            return _not_found(request, ctx, pk, "undo")
    try:
        review.undo(ctx.web.sessions, ctx.web.flow, decision_id, actor=ctx.account.name)
    except (DecisionConflict, UndoRefused, ReviewError) as exc:
        ctx.audit("undo", "conflict", object=f"message {pk}", detail=f"decision {decision_id}")
        return error_page(request, 409, "Terugdraaien lukt niet", f"{exc}.", ctx=ctx)
    ctx.audit("undo", "ok", object=f"message {pk}", detail=f"decision {decision_id}")
    return RedirectResponse(f"/berichten/{pk}?gedaan=teruggedraaid", status_code=303)


@page
async def withdraw(request: Request, ctx: Ctx) -> Response:
    """The coordinator corrects a registered complaint to "geen klacht": the entry is marked withdrawn, never deleted."""
    from klachtwacht.errors import DecisionConflict, InvalidDecision, ReviewError, UndoRefused
    from klachtwacht.review import decide as review

    pk = _pk(request)
    with ctx.web.sessions() as session:
        message = visible_message(session, ctx.account, pk)
    if message is None or not ctx.account.is_coordinator:
        return _not_found(request, ctx, pk, "withdraw")
    label = ctx.field("label") or "overig"
    try:
        review.withdraw(
            ctx.web.sessions, pk, reason=ctx.field("reden"), actor=ctx.account.name, label=label,
            subtype=ctx.field("soort_" + label) or None, answerer=ctx.field("beantwoorder") or None,
        )
    except (DecisionConflict, UndoRefused) as exc:
        ctx.audit("withdraw", "conflict", object=f"message {pk}")
        return error_page(request, 409, "Intrekken lukt niet", f"{exc}.", ctx=ctx)
    except (InvalidDecision, ReviewError) as exc:
        ctx.audit("withdraw", "invalid", object=f"message {pk}")
        return error_page(request, 400, "Intrekken niet compleet", f"{exc}. Er is niets veranderd.", ctx=ctx)
    ctx.audit("withdraw", "ok", object=f"message {pk}")
    return RedirectResponse(f"/berichten/{pk}?gedaan=ingetrokken", status_code=303)


routes = [
    Route("/berichten/{pk}", show, methods=["GET"]),
    Route("/berichten/{pk}/besluit", decide, methods=["POST"]),
    Route("/berichten/{pk}/terugdraaien", undo, methods=["POST"]),
    Route("/berichten/{pk}/intrekken", withdraw, methods=["POST"]),
]
