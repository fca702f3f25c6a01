"""The whole plan for one message: from frozen facts to the effects that follow, and why not others.

Pure: no I/O, no clock, no database. :func:`plan` takes :class:`Facts` (the
parsed message, its classification, the mailboxes it was seen in, the rules)
and returns a :class:`Plan`: the decision, and every effect in the order it is
carried out (register, forwards, the sender's letter, each secretary's
notice), each effect either to be performed or with the named reason it is
not. The automatic-mail, no-reply and loop checks for letters live here and
nowhere else. The one gate that needs the outside world, the daily quota per
sender, is taken when a letter is actually sent.

Going live (:mod:`rules.golive`): mail received before ``Facts.start`` is
history (classified, nothing planned); mail older than ``Facts.max_age_days``
and, in ``confirm`` mode, every plan with something to do go to review first;
a complaint the owner had answered already (``Facts.answered``) is registered
while its letter is held for a person. In ``shadow`` mode the plan is made as
in ``auto`` and carries ``mode``; the caller records it and performs nothing.
A reviewer's decision enters as ``Facts.decision`` and produces a new plan
the same way (the guards above are the rules', a person's decision passes them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from classifiers.records import Classification
from ingest.autosignals import is_robot_address
from ingest.forwarded import forwarded_sender
from ingest.records import Address, ParsedMessage
from rules.decide import Action, Decision, Thresholds, decide
from rules.golive import AUTO, MODES, SHADOW, age_reason, answered_reason, confirm_reason, history_reason
from rules.routing import Route, Routing, route

__all__ = [
    "Kind",
    "Phase",
    "MailboxFacts",
    "OrganisationFacts",
    "Rules",
    "Facts",
    "PlannedEffect",
    "Plan",
    "plan",
    "citizen_of",
    "letter_gate",
    "secretary_notices",
    "NOTICE_KIND",
    "MODES",
]


class Kind:
    """The kinds of effect (the ``effect`` column of the outbox)."""

    REGISTER = "register"
    FORWARD_BEZWAAR = "forward_bezwaar"
    FORWARD_WOO = "forward_woo"
    NOTICE_SENDER = "notice_sender"
    NOTICE_SECRETARY = "notice_secretary"


class Phase:
    """When an effect is carried out: the register first, then letters, then the secretaries."""

    REGISTER = 1
    LETTERS = 2
    SECRETARIES = 3


#: The notice vocabulary of each decision that tells somebody (template names are ``sender_<kind>`` etc.).
NOTICE_KIND = {Action.REGISTER: "klacht", Action.BEZWAAR: "bezwaar", Action.WOO: "woo", Action.POLICY: "beleidsvraag"}


@dataclass(frozen=True, slots=True)
class MailboxFacts:
    name: str
    address: str
    organisation: str
    secretary: str | None = None  # None: the mailbox itself hears of it


@dataclass(frozen=True, slots=True)
class OrganisationFacts:
    name: str
    bezwaar_address: str | None = None
    woo_address: str | None = None


@dataclass(frozen=True, slots=True)
class Rules:
    """The configuration's rules, read once."""

    thresholds: Mapping[str, Thresholds]  # per organisation
    organisations: Mapping[str, OrganisationFacts]
    default_organisation: str
    sender: str  # our own From address (loop guard)
    internal_domains: frozenset[str]  # the municipality's own mail domains (forwards by colleagues)
    register_backend: str = "database"
    routes: tuple[Route, ...] = ()


@dataclass(frozen=True, slots=True)
class Facts:
    """What is known of one message when it is planned."""

    parsed: ParsedMessage
    classification: Classification
    mailboxes: tuple[MailboxFacts, ...]  # every mailbox it was seen in, first sighting first
    received_at: datetime
    now: datetime
    decision: Decision | None = None  # a reviewer's decision; None: the rules decide
    mode: str = AUTO  # shadow | confirm | auto (rules.golive)
    start: datetime | None = None  # mail received before this moment is history (None: none is)
    max_age_days: int | None = None  # the age guard (None: none)
    answered: bool = False  # \\Answered when klachtwacht first saw it


@dataclass(frozen=True, slots=True)
class PlannedEffect:
    """One effect of the plan; ``skip`` names why it is not carried out (None: it is)."""

    kind: str
    recipient: str  # an address, or the organisation's name for the register
    phase: int
    organisation: str  # the organisation that handles the message
    template: str | None = None  # the notice template
    mailbox: str | None = None  # the mailbox a secretary's notice is about
    backend: str | None = None
    route: str | None = None
    skip: str | None = None
    hold: str | None = None  # set: waits for a person (the reason), not carried out until then

    @property
    def key(self) -> tuple[str, str]:
        """The outbox's key within one message: (effect, recipient)."""
        return self.kind, self.recipient.lower()


@dataclass(frozen=True, slots=True)
class Plan:
    decision: Decision
    organisation: str  # the handling organisation (the route's for a routed complaint)
    effects: tuple[PlannedEffect, ...] = ()
    review: str | None = None  # set: a person must look at it first (with the reason)
    routing: Routing | None = None
    mode: str = AUTO  # the going-live mode the plan was made under
    history: str | None = None  # set: received before the start; nothing is planned (with the reason)

    @property
    def shadow(self) -> bool:
        """Made in shadow mode: its effects are recorded as what would have been done, never performed."""
        return self.mode == SHADOW

    @property
    def held(self) -> str | None:
        """The reason an effect of the plan waits for a person after the others are done, or None."""
        return next((e.hold for e in self.effects if e.hold is not None and e.skip is None), None)

    @property
    def letter_skipped(self) -> str | None:
        """The named reason the sender gets no letter, or None when one is planned."""
        for effect in self.effects:
            if effect.kind == Kind.NOTICE_SENDER:
                return effect.skip
        return "geen brief aan de afzender bij dit besluit"

    def of_phase(self, phase: int) -> tuple[PlannedEffect, ...]:
        return tuple(e for e in self.effects if e.phase == phase)


def plan(facts: Facts, rules: Rules) -> Plan:
    """The plan for ``facts`` under ``rules``, with the going-live guards applied (see the module)."""
    if facts.mode not in MODES:
        raise ValueError(f"unknown mode {facts.mode!r} (one of {', '.join(MODES)})")
    home = home_organisation(facts, rules)
    decision = facts.decision or decide(facts.parsed, facts.classification, rules.thresholds[home])
    made = replace(_plan(facts, rules, home, decision), mode=facts.mode)
    if facts.decision is not None:  # a person decided: the guards are theirs
        return made
    history = history_reason(facts.received_at, facts.start)
    if history is not None:
        return Plan(decision, made.organisation, history=history, mode=facts.mode)
    if made.review is not None or not any(e.skip is None for e in made.effects):
        return made
    letter = next((e for e in made.effects if e.kind == Kind.NOTICE_SENDER and e.skip is None), None)
    too_old = age_reason(facts.received_at, facts.now, facts.max_age_days) if letter is not None else None
    review = too_old or confirm_reason(facts.mode)
    if review is not None:
        return Plan(decision, made.organisation, review=review, routing=made.routing, mode=facts.mode)
    answered = answered_reason(facts.answered) if decision.action == Action.REGISTER else None
    if answered is not None and letter is not None:
        held = tuple(replace(e, hold=answered) if e.kind == Kind.NOTICE_SENDER else e for e in made.effects)
        return replace(made, effects=held)
    return made


def _plan(facts: Facts, rules: Rules, home: str, decision: Decision) -> Plan:
    """The plan of ``decision`` as the rules make it, before the going-live guards."""
    action = decision.action
    if action not in NOTICE_KIND:  # review or archive: nothing to do yet
        review = decision.reason if action == Action.REVIEW else None
        return Plan(decision, home, review=review)
    kind = NOTICE_KIND[action]
    effects: list[PlannedEffect] = []
    org, routing = home, None
    if action == Action.REGISTER:
        routing = route(home, f"{facts.parsed.subject}\n{facts.parsed.text}", rules.routes)
        org = routing.organisation
        effects.append(PlannedEffect(Kind.REGISTER, org, Phase.REGISTER, org, backend=rules.register_backend, route=routing.route))
    if action in (Action.BEZWAAR, Action.WOO):
        facts_org = rules.organisations.get(org) or OrganisationFacts(org)
        team = facts_org.bezwaar_address if action == Action.BEZWAAR else facts_org.woo_address
        if team is None:
            return Plan(decision, org, review=f"geen adres voor het {kind}-team ingesteld bij {org}: handmatig doorsturen")
        forward = Kind.FORWARD_BEZWAAR if action == Action.BEZWAAR else Kind.FORWARD_WOO
        effects.append(PlannedEffect(forward, team, Phase.LETTERS, org, template=f"forward_{kind}"))
    if action != Action.POLICY:  # a policy question is answered by the secretary, not by us
        citizen = citizen_of(facts.parsed, rules)
        blocked = letter_gate(facts, decision, citizen, rules)
        recipient = citizen.address if citizen is not None else "-"
        effects.append(PlannedEffect(Kind.NOTICE_SENDER, recipient, Phase.LETTERS, org, template=f"sender_{kind}", skip=blocked))
    effects.extend(secretary_notices(facts.mailboxes, org, kind))
    return Plan(decision, org, tuple(effects), routing=routing)


def home_organisation(facts: Facts, rules: Rules) -> str:
    """The organisation of the first mailbox the message was seen in."""
    for mailbox in facts.mailboxes:
        if mailbox.organisation in rules.thresholds:
            return mailbox.organisation
    return rules.default_organisation


def secretary_notices(mailboxes: tuple[MailboxFacts, ...], organisation: str, kind: str) -> tuple[PlannedEffect, ...]:
    """One notice to the secretary of each mailbox (one per address, however many mailboxes share it)."""
    out: dict[str, PlannedEffect] = {}
    for mailbox in mailboxes:
        to = mailbox.secretary or mailbox.address
        out.setdefault(to.lower(), PlannedEffect(Kind.NOTICE_SECRETARY, to, Phase.SECRETARIES, organisation, template=f"secretary_{kind}", mailbox=mailbox.name))
    return tuple(out.values())


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].lower()


def citizen_of(parsed: ParsedMessage, rules: Rules) -> Address | None:
    """Who the letter is for: Reply-To or From, or, when a colleague forwarded the mail, its original sender."""
    own = parsed.reply_to if parsed.reply_to is not None and "@" in parsed.reply_to.address else parsed.sender
    if own is not None and _domain(own.address) in rules.internal_domains:
        original = forwarded_sender(parsed.text)
        if original is not None and _domain(original.address) not in rules.internal_domains:
            return original
    if own is not None and "@" in own.address:
        return own
    return None


def letter_gate(facts: Facts, decision: Decision, citizen: Address | None, rules: Rules) -> str | None:
    """The named reason the sender gets no letter, or None when one may go (before the quota, taken at send time)."""
    if not decision.notify_sender or facts.parsed.is_automatic:
        return "automatisch bericht (RFC 3834): geen bericht aan de afzender"
    if citizen is None:
        return "geen bruikbaar afzenderadres"
    if is_robot_address(citizen):
        return "afzender is een no-reply- of systeemadres"
    if citizen.address.lower() == rules.sender.lower():
        return "bericht van klachtwacht zelf (lusbeveiliging)"
    return None
