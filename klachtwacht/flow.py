"""A message's life, one way down: parse, classify, decide (the plan into the outbox), then do.

    fetched --parse--> parsed --classify--> classified --decide--> decided | review | done
    classified --decide--> history (received before the start) | shadow (planned in shadow mode, nothing done)
    decided --register--> registered (a complaint; other decisions go straight on to the letters)
    registered --letters--> notified (forwards to a team, the sender's letter)
    notified --secretaries--> done
    done --seen in one more mailbox--> notified (its secretary is told too)

``decide`` runs the pure planner (:func:`rules.plan.plan`) and writes the
whole plan as outbox rows in the transaction of its state change. The steps
after it only work off the outbox, phase by phase, through the performers
(:mod:`klachtwacht.perform`). A reviewer's later decision produces a new plan
the same way (:func:`decide_again`).

The going-live facts are read here, at the edge: the start, age guard and
mode of the mailbox the message was first seen in (the start ``first-poll``
is the first poll of that folder, on its cursor), and whether it was
answered already; the plan records its mode on the message.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from classifiers.records import Classification
from klachtwacht.config import Config, OrganisationConfig
from klachtwacht.db.models import FolderCursor, Message, MessageState, Sighting, utcnow
from klachtwacht.effects import HELD, REJECTED, effects_of, replan, write_plan
from klachtwacht.errors import KlachtwachtError
from klachtwacht.metrics import counters
from klachtwacht.perform import MessageView, Performer, perform_phase
from klachtwacht.pipeline import StepContext, StepResult, parsed_of
from klachtwacht.seams import Seams
from klachtwacht.states import record_transition
from rules import Action, Decision
from rules.golive import AUTO, SHADOW, start_moment
from rules.plan import NOTICE_KIND, Facts, Kind, MailboxFacts, Phase, Plan, Rules, plan, secretary_notices

__all__ = ["Flow", "decide_again", "decide_again_in", "classification_of", "state_after"]

S = MessageState

#: Where the decision leaves a message: work to do, a person to wait for, or nothing.
NEXT_STATE = {Action.REGISTER: S.DECIDED, Action.POLICY: S.DECIDED, Action.BEZWAAR: S.DECIDED, Action.WOO: S.DECIDED, Action.REVIEW: S.REVIEW, Action.ARCHIVE: S.DONE}


def classification_of(message: Message) -> Classification:
    """The classification stored on ``message``."""
    data = message.classification or {}
    return Classification(
        label=str(data.get("label", message.label or "overig")),
        confidence=float(data.get("confidence", message.confidence or 0.0)),
        scores=dict(data.get("scores", message.scores or {})),
        reasons=tuple(data.get("reasons", message.reasons or ())),
        model=str(data.get("model", message.model or "")),
        subtype=data.get("subtype", message.subtype),
        language=str(data.get("language", "nl")),
        needs_review=bool(data.get("needs_review", False)),
    )


def _mailbox_names(message: Message) -> tuple[str, ...]:
    names: list[str] = []
    for sighting in message.sightings:
        if sighting.mailbox not in names:
            names.append(sighting.mailbox)
    return tuple(names)


class Flow:
    """The steps after parsing, bound to the rules and the performers (built by :func:`klachtwacht.wiring.build_services`)."""

    def __init__(self, config: Config, seams: Seams, rules: Rules, performers: Mapping[str, Performer]) -> None:
        self.config = config
        self.seams = seams
        self.rules = rules
        self.performers = performers
        self.organisations: dict[str, OrganisationConfig] = {o.name: o for o in config.organisations} or {"default": config.organisation("default")}
        self._mailboxes = {m.name: MailboxFacts(m.name, m.address, m.organisation, m.secretary) for m in config.mailboxes}
        self._going_live = {m.name: config.going_live(m) for m in config.mailboxes}

    # -- facts -------------------------------------------------------------------
    def facts(self, message: Message, *, decision: Decision | None = None, now: datetime | None = None, session: Session | None = None) -> Facts:
        """The frozen facts the planner takes for ``message`` (the start needs ``session``, to read the folder's first poll)."""
        boxes = tuple(self._mailboxes[name] for name in _mailbox_names(message) if name in self._mailboxes)
        first = message.sightings[0] if message.sightings else None
        mode, start, max_age = AUTO, None, None
        if first is not None and first.mailbox in self._going_live:
            live = self._going_live[first.mailbox]
            mode, max_age = live.mode, live.max_age_days
            if session is not None:
                cursor = session.get(FolderCursor, (first.mailbox, first.folder))
                start = start_moment(live.start, cursor.first_poll_at if cursor is not None else None)
        if message.plan_mode == SHADOW:
            mode = SHADOW  # planned in shadow mode: a later decision is recorded the same way, never carried out
        answered = bool(first is not None and first.answered)
        return Facts(
            parsed_of(message), classification_of(message), boxes, message.received_at, now or utcnow(), decision=decision,
            mode=mode, start=start, max_age_days=max_age, answered=answered,
        )

    def view(self, ctx: StepContext) -> MessageView:
        m = ctx.message
        return MessageView(ctx.sessions, m.id, m.message_id, m.received_at, m.decided_by, m.blob_sha256, parsed_of(m), _mailbox_names(m))

    def plan_for(self, message: Message, decision: Decision | None = None, session: Session | None = None) -> Plan:
        return plan(self.facts(message, decision=decision, session=session), self.rules)

    # -- the pure steps ------------------------------------------------------------
    def classify(self, ctx: StepContext) -> StepResult:
        with counters.CLASSIFY_SECONDS.time():
            return self.classified(self.seams.classifier.classify_parsed(parsed_of(ctx.message)))

    @staticmethod
    def classified(result: Classification) -> StepResult:
        """parsed -> classified with ``result`` (made here or in the parse pool)."""
        return StepResult(
            S.CLASSIFIED,
            {
                "label": result.label, "subtype": result.subtype, "confidence": result.confidence, "scores": result.scores,
                "reasons": list(result.reasons), "model": result.model, "classification": result.to_dict(),
            },
            reason=f"{result.label} ({result.confidence:.0%}) door {result.model}",
        )

    def classify_many(self, batch: list[StepContext]) -> list[StepResult]:
        """:meth:`classify` for a batch: one model pass when the classifier can (``classify_parsed_many``)."""
        many = getattr(self.seams.classifier, "classify_parsed_many", None)
        if many is None:
            return [self.classify(ctx) for ctx in batch]
        started = time.perf_counter()
        results: list[Classification] = many([parsed_of(ctx.message) for ctx in batch])
        for _ in results:  # one model pass: each message is counted at the batch's mean
            counters.CLASSIFY_SECONDS.observe((time.perf_counter() - started) / max(1, len(results)))
        return [self.classified(result) for result in results]

    def decide_many(self, batch: list[StepContext]) -> list[StepResult]:
        """:meth:`decide` for a batch; the caller stores them all in one transaction."""
        return [self.decide(ctx) for ctx in batch]

    def decide(self, ctx: StepContext) -> StepResult:
        """classified -> decided (plan in the outbox) | review | done | history | shadow, in one transaction."""
        the_plan = self.plan_for(ctx.message, session=ctx.session)
        decision = the_plan.decision
        to_state = state_after(the_plan)
        pk = ctx.message.id

        def write(session: Session) -> None:
            write_plan(session, pk, the_plan.effects, mode=the_plan.mode)

        reason = the_plan.history or the_plan.review or decision.reason
        values = {"decision": decision.action, "decided_by": decision.by, "decision_reason": reason, "plan_mode": the_plan.mode}
        return StepResult(to_state, values, reason=reason, then=write)

    # -- doing: working off the outbox -----------------------------------------------
    def register(self, ctx: StepContext) -> StepResult:
        """decided -> registered: the register row of the plan; without one, straight on to the letters."""
        view = self.view(ctx)
        perform_phase(ctx.sessions, view, Phase.REGISTER, self.performers)
        entry = view.entry()
        if entry is None:  # nothing to register (or its row was cancelled)
            return self.letters(ctx, view)
        route = next((e.payload or {}).get("route") for e in effects_of(ctx.session, view.pk) if e.effect == Kind.REGISTER)
        via = f" via route {route}" if route else ""
        return StepResult(S.REGISTERED, reason=f"geregistreerd als {entry.number} bij {self.organisations[entry.organisation].display_name}{via}")

    def letters(self, ctx: StepContext, view: MessageView | None = None) -> StepResult:
        """registered -> notified: forwards to a team first, then the sender's letter."""
        held = next((r for r in effects_of(ctx.session, ctx.message.id) if r.status == HELD), None)
        if held is not None:  # registered; the letter waits for a person (the owner had answered already)
            why = held.detail or "de brief aan de afzender wacht op bevestiging"
            return StepResult(S.REVIEW, {"decision_reason": why}, reason=why)
        view = view or self.view(ctx)
        forwards = (Kind.FORWARD_BEZWAAR, Kind.FORWARD_WOO)
        done = perform_phase(ctx.sessions, view, Phase.LETTERS, self.performers, stop=lambda job, status: job.kind in forwards and status == REJECTED)
        for kind in forwards:
            if done.get(kind) == REJECTED:
                team = kind.removeprefix("forward_")
                return StepResult(S.REVIEW, reason=f"doorsturen naar het {team}-team mislukt ({REJECTED})")
        told = "afzender ingelicht" if view.performed(Kind.NOTICE_SENDER) else "afzender niet ingelicht"
        return StepResult(S.NOTIFIED, reason=told)

    def secretaries(self, ctx: StepContext) -> StepResult:
        """notified -> done: tell the secretary of every mailbox the message was seen in.

        A message seen in one more mailbox later comes back here, and its
        new secretary is planned now; the guard on the number of sightings
        makes a sighting that arrives during this step run it once more, so
        every secretary hears of it exactly once.
        """
        message = ctx.message
        sightings = len(message.sightings)
        kind = NOTICE_KIND.get(message.decision or "")
        if kind is not None:
            rows = effects_of(ctx.session, message.id)
            org = next((str(r.payload["organisation"]) for r in rows if r.payload and r.payload.get("organisation")), self.rules.default_organisation)
            notices = secretary_notices(self.facts(message).mailboxes, org, kind)
            known = {(r.effect, r.recipient) for r in rows}
            new = [n for n in notices if n.key not in known]
            if new:  # a mailbox it was seen in since the plan was made
                with ctx.sessions.begin() as session:
                    write_plan(session, message.id, new)
            perform_phase(ctx.sessions, self.view(ctx), Phase.SECRETARIES, self.performers)
        seen_now = select(func.count()).select_from(Sighting).where(Sighting.message_pk == message.id).scalar_subquery()
        return StepResult(S.DONE, reason="afgehandeld; secretariaat ingelicht" if kind else "afgehandeld", guard=seen_now == sightings)


def decide_again(sessions: sessionmaker[Session], flow: Flow, message_pk: int, decision: Decision, *, actor: str) -> Plan:
    """A person's decision on a message: a new plan, made the same way, written to the outbox with the state change.

    Planned effects the new plan drops are cancelled; effects already
    carried out stay. The message moves to where the new decision leaves it
    (``decided`` when there is work to do), in one transaction.
    """
    with sessions.begin() as session:
        message = session.get(Message, message_pk)
        if message is None:
            raise KlachtwachtError(f"message {message_pk} does not exist")
        return decide_again_in(session, flow, message, decision, actor=actor)


def decide_again_in(session: Session, flow: Flow, message: Message, decision: Decision, *, actor: str) -> Plan:
    """:func:`decide_again` inside the caller's transaction (a review decision records itself beside it)."""
    new = flow.plan_for(message, decision, session=session)
    replan(session, message.id, new.effects, mode=new.mode)
    to_state = state_after(new)
    reason = new.history or new.review or new.decision.reason
    record_transition(session, message.id, message.state, to_state, actor=actor, reason=reason)
    message.state, message.state_changed_at, message.attempts = to_state, utcnow(), 0
    message.decision, message.decided_by, message.decision_reason = new.decision.action, new.decision.by, reason
    message.plan_mode = new.mode
    return new


def state_after(the_plan: Plan) -> str:
    """Where a plan leaves its message: history, review, shadow (recorded, nothing done) or the decision's next state."""
    if the_plan.history:
        return S.HISTORY
    if the_plan.review:
        return S.REVIEW
    if the_plan.shadow:
        return S.SHADOW
    return NEXT_STATE[the_plan.decision.action]
