"""The steps of a message's life, wired to the classifier, the rules, the register and the mailer.

    fetched --parse--> parsed --classify--> classified --decide--> decided | review | done
    decided --act--> registered (a complaint) | notified (policy question, bezwaar, Woo)
    registered --notify--> notified --finish--> done
    done --seen in one more mailbox--> notified (its secretary is told too)

``decide`` is pure (``rules``); ``act`` and ``notify`` carry out effects, each
through the effect ledger so it happens once.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from classifiers.classifier import Classifier
from classifiers.records import Classification
from ingest.forwarded import forwarded_sender
from ingest.records import Address, ParsedMessage
from klachtwacht.config import Config, MailboxConfig, OrganisationConfig
from klachtwacht.db.models import Message, MessageState, RegisterEntry, Sighting, utcnow
from klachtwacht.effects import DONE, effects_of, has_row, run_effect, skip_effect, take_quota
from klachtwacht.errors import ConfigError
from klachtwacht.intake import SECRETARY_DECISIONS, load_raw
from klachtwacht.notices.mailer import Mailer, OutgoingMail
from klachtwacht.notices.render import NoticeRenderer
from klachtwacht.pipeline import Services, Step, StepResult, parse_step, parsed_of
from klachtwacht.register import RegisterBackend, RegisterRequest, entry_for, make_backend
from rules import Action, Route, Thresholds, complaint_terms, decide, route
from rules.deadlines import local_date

__all__ = ["Dependencies", "build_services", "ROBOT_LOCALPARTS", "KINDS"]

log = logging.getLogger(__name__)
S = MessageState

ROBOT_LOCALPARTS = ("noreply", "no-reply", "donotreply", "do-not-reply", "mailer-daemon", "postmaster", "bounce", "bounces")
DECIDED_BY = {"model": "het model", "rule": "een regel", "reviewer": "een medewerker"}


@dataclass(frozen=True)
class Dependencies:
    """What the steps use, built once from the configuration."""

    config: Config
    classifier: Classifier
    thresholds: dict[str, Thresholds]  # per organisation
    routes: tuple[Route, ...]
    register: RegisterBackend
    mailer: Mailer
    renderer: NoticeRenderer

    @property
    def domain(self) -> str:
        return self.config.smtp.sender.split("@", 1)[1]


def build_services(config: Config, classifier: Classifier | None = None) -> Services:
    """Load the model and templates and check the register options: every error surfaces here, at start-up."""
    model = classifier or Classifier.load(config.classifier.model)
    mailer = Mailer(config.smtp)
    organisations = config.organisations or (config.organisation("default"),)
    deps = Dependencies(
        config=config,
        classifier=model,
        thresholds={org.name: _thresholds(config, org, model) for org in organisations},
        routes=tuple(Route(r.name, r.organisation, r.topics, r.from_organisations) for r in config.rules.routes),
        register=make_backend(config, mailer),
        mailer=mailer,
        renderer=NoticeRenderer(organisations, config.path),
    )
    steps: dict[str, Step] = {S.FETCHED: parse_step, S.PARSED: classify_step, S.CLASSIFIED: decide_step, S.DECIDED: act_step, S.REGISTERED: notify_step, S.NOTIFIED: finish_step}
    return Services(steps=steps, deps=deps)


def _thresholds(config: Config, org: OrganisationConfig, model: Classifier) -> Thresholds:
    """The organisation's thresholds, else those of [rules], else the model's operating points."""
    key = f"organisations.{org.name}" if config.organisations else "rules"

    def pick(name: str) -> tuple[float, str]:
        for value, where in ((getattr(org, name), f"{key}.{name}"), (getattr(config.rules, name), f"rules.{name}")):
            if value is not None:
                return value, where
        return getattr(model.meta, name), ""

    (register, register_key), (review, review_key) = pick("register_threshold"), pick("review_threshold")
    try:
        return Thresholds(register=register, review=review)
    except ValueError as exc:
        raise ConfigError(
            config.path,
            review_key or register_key or "rules.review_threshold",
            f"{exc} (the model's operating points are register {model.meta.register_threshold}, review {model.meta.review_threshold})",
        ) from exc


def _sessions(session: Session) -> sessionmaker[Session]:
    return sessionmaker(bind=session.get_bind(), expire_on_commit=False)


def _classification(message: Message) -> Classification:
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


# -- classify and decide (pure cores) ------------------------------------------
def classify_step(session: Session, message: Message, services: Services) -> StepResult:
    deps: Dependencies = services.deps
    parsed = parsed_of(message)
    result = deps.classifier.classify_parsed(parsed)
    return StepResult(
        S.CLASSIFIED,
        {
            "label": result.label,
            "subtype": result.subtype,
            "confidence": result.confidence,
            "scores": result.scores,
            "reasons": list(result.reasons),
            "model": result.model,
            "classification": result.to_dict(),
        },
        reason=f"{result.label} ({result.confidence:.0%}) door {result.model}",
    )


NEXT_STATE = {
    Action.REGISTER: S.DECIDED,
    Action.POLICY: S.DECIDED,
    Action.BEZWAAR: S.DECIDED,
    Action.WOO: S.DECIDED,
    Action.REVIEW: S.REVIEW,
    Action.ARCHIVE: S.DONE,
}


def decide_step(session: Session, message: Message, services: Services) -> StepResult:
    deps: Dependencies = services.deps
    org = _home_organisation(deps, _mailboxes(session, message))
    decision = decide(parsed_of(message), _classification(message), deps.thresholds[org.name])
    return StepResult(
        NEXT_STATE[decision.action],
        {"decision": decision.action, "decided_by": decision.by, "decision_reason": decision.reason},
        reason=decision.reason,
    )


# -- effects ------------------------------------------------------------------------
def _mailboxes(session: Session, message: Message) -> list[str]:
    names: list[str] = []
    for sighting in message.sightings:
        if sighting.mailbox not in names:
            names.append(sighting.mailbox)
    return names


def _mailbox_config(config: Config, name: str) -> MailboxConfig | None:
    try:
        return config.mailbox(name)
    except KeyError:
        return None


def _home_organisation(deps: Dependencies, mailboxes: list[str]) -> OrganisationConfig:
    for name in mailboxes:
        mailbox = _mailbox_config(deps.config, name)
        if mailbox is not None:
            return deps.config.organisation(mailbox.organisation)
    return deps.config.organisation(deps.config.organisations[0].name if deps.config.organisations else "default")


def _message_id(deps: Dependencies, message_pk: int, effect: str, recipient: str) -> str:
    digest = hashlib.sha256(recipient.lower().encode()).hexdigest()[:12]
    return f"<kw.{effect}.{message_pk}.{digest}@{deps.domain}>"


def _internal_domains(config: Config) -> set[str]:
    addresses = [config.smtp.sender] + [m.address for m in config.mailboxes] + [m.secretary for m in config.mailboxes if m.secretary]
    return {a.rsplit("@", 1)[1].lower() for a in addresses}


def _citizen(deps: Dependencies, parsed: ParsedMessage) -> Address | None:
    """Who the letter is for: the sender, or, when a colleague forwarded the mail, its original sender."""
    own = parsed.reply_to if parsed.reply_to is not None and "@" in parsed.reply_to.address else parsed.sender
    if own is not None and own.address.rsplit("@", 1)[-1] in _internal_domains(deps.config):
        original = forwarded_sender(parsed.text)
        if original is not None and original.address.rsplit("@", 1)[-1] not in _internal_domains(deps.config):
            return original
    if own is not None and "@" in own.address:
        return own
    return None


def _notice_block(deps: Dependencies, session: Session, message: Message, parsed: ParsedMessage) -> tuple[str | None, str | None]:
    """``(address, None)`` when the sender may get a notice, else ``(address, reason)``."""
    citizen = _citizen(deps, parsed)
    address = citizen.address if citizen else None
    if parsed.is_automatic:
        return address, "automatisch bericht (RFC 3834): geen bericht aan de afzender"
    if address is None:
        return None, "geen bruikbaar afzenderadres"
    local, _, domain = address.partition("@")
    if local.lower() in ROBOT_LOCALPARTS or local.lower().startswith(("noreply", "no-reply")):
        return address, "afzender is een no-reply- of systeemadres"
    if domain.lower() == deps.domain.lower() and local.lower() == deps.config.smtp.sender.split("@")[0].lower():
        return address, "bericht van klachtwacht zelf (lusbeveiliging)"
    limit = deps.config.rules.notices_per_sender_per_day
    if not has_row(session, message.id, "notice_sender", address.lower()) and not take_quota(
        _sessions(session), address.lower(), local_date(utcnow()), limit
    ):
        return address, f"al {limit} berichten vandaag aan deze afzender (limiet)"
    return address, None


def _context(deps: Dependencies, message: Message, parsed: ParsedMessage, org: OrganisationConfig, mailboxes: list[str], **extra: Any) -> dict[str, Any]:
    citizen = _citizen(deps, parsed)
    sender_name = citizen.name if citizen and citizen.name else None
    return {
        "org": org,
        "received": local_date(message.received_at),
        "subject": parsed.subject[:200],
        "sender_name": sender_name,
        "mailbox": ", ".join(mailboxes),
        "decided_by_text": DECIDED_BY.get(message.decided_by or "model", "het model"),
        "number": None,
        "due": None,
        "sender_notified": False,
        **extra,
    }


def _send(deps: Dependencies, sessions: sessionmaker[Session], message: Message, parsed: ParsedMessage, effect: str, to: str, org: OrganisationConfig, kind: str, context: dict[str, Any], attach_original: bool = False) -> str:
    """Render and send one notice through the ledger; return its ledger status."""

    def act() -> str:
        rendered = deps.renderer.render(org.name, kind, context)
        attachments: tuple[tuple[str, str, str, bytes], ...] = ()
        if attach_original:
            with sessions() as s:
                attachments = (("origineel.eml", "message", "rfc822", load_raw(s, message.blob_sha256)),)
        mail = OutgoingMail(
            to=to,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            message_id=_message_id(deps, message.id, effect, to),
            in_reply_to=message.message_id,
            references=tuple(parsed.references) + ((message.message_id,) if message.message_id else ()),
            attachments=attachments,
            sender_name=org.display_name,
        )
        deps.mailer.send(mail)
        return mail.message_id

    return run_effect(sessions, message.id, effect, to.lower(), act).status


def act_step(session: Session, message: Message, services: Services) -> StepResult:
    """Register a complaint, or forward a bezwaarschrift / Woo request, or tell the secretary of a policy question."""
    deps: Dependencies = services.deps
    if message.decision == Action.REGISTER:
        return _register(deps, session, message)
    return _notify(deps, session, message)


def _register(deps: Dependencies, session: Session, message: Message) -> StepResult:
    sessions = _sessions(session)
    parsed = parsed_of(message)
    mailboxes = _mailboxes(session, message)
    home = _home_organisation(deps, mailboxes)
    routing = route(home.name, f"{parsed.subject}\n{parsed.text}", deps.routes)
    org = deps.config.organisation(routing.organisation)
    entry = entry_for(sessions, message.id, org, message.received_at, deps.register.name, routing.route)
    citizen = _citizen(deps, parsed)
    request = RegisterRequest(
        message_pk=message.id,
        number=entry.number,
        organisation=org,
        received_at=message.received_at,
        terms=complaint_terms(message.received_at),
        subject=parsed.subject,
        sender_address=citizen.address if citizen else None,
        sender_name=citizen.name if citizen else "",
        message_id=message.message_id,
        mailboxes=tuple(mailboxes),
        raw=load_raw(session, message.blob_sha256),
    )
    ledger = run_effect(sessions, message.id, "register", org.name, lambda: deps.register.create(request), lambda: deps.register.find(request))
    with sessions.begin() as s:
        s.execute(update(RegisterEntry).where(RegisterEntry.id == entry.id).values(status="open", external_ref=ledger.external_ref))
    via = f" via route {routing.route} ({routing.matched})" if routing.route else ""
    return StepResult(S.REGISTERED, reason=f"geregistreerd als {entry.number} bij {org.display_name}{via}")


def notify_step(session: Session, message: Message, services: Services) -> StepResult:
    return _notify(services.deps, session, message)


KINDS = {Action.REGISTER: "klacht", Action.BEZWAAR: "bezwaar", Action.WOO: "woo", Action.POLICY: "beleidsvraag"}
assert set(KINDS) == set(SECRETARY_DECISIONS), "the decisions that tell a secretary are one list"


def _handling_org(deps: Dependencies, session: Session, message: Message, mailboxes: list[str]) -> tuple[OrganisationConfig, dict[str, Any]]:
    """The organisation that handles the message, and the register facts for the letters."""
    if message.decision == Action.REGISTER:
        entry = session.scalar(select(RegisterEntry).where(RegisterEntry.message_pk == message.id))
        assert entry is not None
        return deps.config.organisation(entry.organisation), {"number": entry.number, "due": entry.due}
    return _home_organisation(deps, mailboxes), {}


def _notify(deps: Dependencies, session: Session, message: Message) -> StepResult:
    sessions = _sessions(session)
    parsed = parsed_of(message)
    mailboxes = _mailboxes(session, message)
    org, extra = _handling_org(deps, session, message, mailboxes)
    action = message.decision
    kind = KINDS[action or Action.POLICY]

    if action in (Action.BEZWAAR, Action.WOO):
        team = org.bezwaar_address if action == Action.BEZWAAR else org.woo_address
        if team is None:
            return StepResult(S.REVIEW, reason=f"geen adres voor het {kind}-team ingesteld bij {org.name}: handmatig doorsturen")
        status = _send(deps, sessions, message, parsed, f"forward_{kind}", team, org, f"forward_{kind}", _context(deps, message, parsed, org, mailboxes), attach_original=True)
        if status != DONE:
            return StepResult(S.REVIEW, reason=f"doorsturen naar het {kind}-team mislukt ({status})")

    sender_notified = False
    if action != Action.POLICY:
        address, blocked = _notice_block(deps, session, message, parsed)
        if blocked is not None:
            skip_effect(sessions, message.id, "notice_sender", (address or "-").lower(), blocked)
        else:
            assert address is not None
            context = _context(deps, message, parsed, org, mailboxes, **extra)
            sender_notified = _send(deps, sessions, message, parsed, "notice_sender", address, org, f"sender_{kind}", context) == DONE

    told = "afzender ingelicht" if sender_notified else "afzender niet ingelicht"
    return StepResult(S.NOTIFIED, reason=told)


def _tell_secretaries(
    deps: Dependencies,
    sessions: sessionmaker[Session],
    message: Message,
    parsed: ParsedMessage,
    mailboxes: list[str],
    org: OrganisationConfig,
    kind: str,
    extra: dict[str, Any],
    sender_notified: bool,
) -> None:
    """One notice to the secretary of each mailbox the message was seen in (the ledger keeps it to one)."""
    for name in mailboxes:
        mailbox = _mailbox_config(deps.config, name)
        if mailbox is None:
            continue
        to = mailbox.secretary or mailbox.address
        context = _context(deps, message, parsed, org, [name], sender_notified=sender_notified, **extra)
        _send(deps, sessions, message, parsed, "notice_secretary", to, org, f"secretary_{kind}", context)


def finish_step(session: Session, message: Message, services: Services) -> StepResult:
    """Tell the secretary of every mailbox the message was seen in, then rest.

    A message seen in one more mailbox later is brought back here (see
    :mod:`klachtwacht.intake`), and the guard on the number of sightings makes
    a sighting that arrives during this step run it once more, so every
    secretary hears of it exactly once.
    """
    deps: Dependencies = services.deps
    sightings = len(message.sightings)
    if message.decision in KINDS:
        sessions = _sessions(session)
        mailboxes = _mailboxes(session, message)
        org, extra = _handling_org(deps, session, message, mailboxes)
        notified = any(e.effect == "notice_sender" and e.status == DONE for e in effects_of(session, message.id))
        _tell_secretaries(deps, sessions, message, parsed_of(message), mailboxes, org, KINDS[message.decision], extra, notified)
    seen_now = select(func.count()).select_from(Sighting).where(Sighting.message_pk == message.id).scalar_subquery()
    return StepResult(S.DONE, reason="afgehandeld; secretariaat ingelicht" if message.decision in KINDS else "afgehandeld", guard=seen_now == sightings)
