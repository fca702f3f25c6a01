"""Building the flow from the configuration: the seams, the rules, the performers, the steps.

Every error (a model that does not load, a broken template, bad register
options, thresholds that do not fit) surfaces here, at start-up.
"""

from __future__ import annotations

from klachtwacht.config import Config, OrganisationConfig
from klachtwacht.db.models import MessageState
from klachtwacht.errors import ConfigError
from klachtwacht.flow import Flow
from klachtwacht.notices.archive import ImapArchive
from klachtwacht.notices.mailer import Mailer
from klachtwacht.notices.render import NoticeRenderer
from klachtwacht.perform import LetterPerformer, Performer, RegisterPerformer
from klachtwacht.pipeline import BatchStep, Services, Step, parse_step
from klachtwacht.register import make_backend
from klachtwacht.seams import ClassifierSeam, Seams
from rules import Route, Thresholds
from rules.plan import Kind, OrganisationFacts, Rules

__all__ = ["build_services", "plan_rules", "thresholds_of"]

S = MessageState


def build_services(config: Config, classifier: ClassifierSeam | None = None, *, seams: Seams | None = None) -> Services:
    """The steps of the whole flow on ``config``; ``seams`` replaces the backends (tests), ``classifier`` only the model."""
    if seams is None:
        if classifier is None:
            from classifiers.classifier import Classifier

            # the pipeline itself on first use: an ingest process whose parse pool classifies never holds it
            classifier = Classifier.load(config.classifier.model, lazy=True)
        archive = ImapArchive(config.archive) if config.archive else None
        mailer = Mailer(config.smtp, archive=config.archive.address if config.archive else None)
        seams = Seams(classifier=classifier, register=make_backend(config, mailer, archive), mailer=mailer, archive=archive)
    organisations = config.organisations or (config.organisation("default"),)
    by_name = {org.name: org for org in organisations}
    rules = plan_rules(config, seams)
    renderer = NoticeRenderer(organisations, config.path)
    letters = LetterPerformer(
        seams.mailer, renderer, by_name, rules, archive=seams.archive, per_sender_per_day=config.rules.notices_per_sender_per_day
    )
    performers: dict[str, Performer] = {
        Kind.REGISTER: RegisterPerformer(seams.register, by_name, rules),
        Kind.FORWARD_BEZWAAR: letters,
        Kind.FORWARD_WOO: letters,
        Kind.NOTICE_SENDER: letters,
        Kind.NOTICE_SECRETARY: letters,
    }
    flow = Flow(config, seams, rules, performers)
    steps: dict[str, Step] = {
        S.FETCHED: parse_step,
        S.PARSED: flow.classify,
        S.CLASSIFIED: flow.decide,
        S.DECIDED: flow.register,
        S.REGISTERED: flow.letters,
        S.NOTIFIED: flow.secretaries,
    }
    batch_steps: dict[str, BatchStep] = {S.PARSED: flow.classify_many, S.CLASSIFIED: flow.decide_many}
    if config.reconcile.canary is not None:  # a probe is recognised before the model sees it (klachtwacht.canary.gate)
        from klachtwacht.canary.gate import CanaryGate

        gate = CanaryGate(config, flow.classify, flow.classify_many)
        steps[S.PARSED], batch_steps[S.PARSED] = gate.step, gate.many
    return Services(steps=steps, seams=seams, flow=flow, batch_steps=batch_steps)


def plan_rules(config: Config, seams: Seams) -> Rules:
    """The planner's rules, read once from the configuration."""
    organisations = config.organisations or (config.organisation("default"),)
    addresses = [config.smtp.sender] + [m.address for m in config.mailboxes] + [m.secretary for m in config.mailboxes if m.secretary]
    return Rules(
        thresholds={org.name: thresholds_of(config, org, seams.classifier) for org in organisations},
        organisations={org.name: OrganisationFacts(org.name, org.bezwaar_address, org.woo_address) for org in organisations},
        default_organisation=organisations[0].name,
        sender=config.smtp.sender,
        internal_domains=frozenset(a.rsplit("@", 1)[1].lower() for a in addresses),
        register_backend=seams.register.name,
        routes=tuple(Route(r.name, r.organisation, r.topics, r.from_organisations) for r in config.rules.routes),
    )


def thresholds_of(config: Config, org: OrganisationConfig, model: ClassifierSeam) -> Thresholds:
    """The organisation's thresholds, else those of [rules], else the model's operating points."""
    key = f"organisations.{org.name}" if config.organisations else "rules"

    def pick(name: str) -> tuple[float, str]:
        for value, where in ((getattr(org, name), f"{key}.{name}"), (getattr(config.rules, name), f"rules.{name}")):
            if value is not None:
                return float(value), where
        return float(getattr(model.meta, name)), ""

    (register, register_key), (review, review_key) = pick("register_threshold"), pick("review_threshold")
    try:
        return Thresholds(register=register, review=review)
    except ValueError as exc:
        raise ConfigError(
            config.path,
            review_key or register_key or "rules.review_threshold",
            f"{exc} (the model's operating points are register {model.meta.register_threshold}, review {model.meta.review_threshold})",
        ) from exc
