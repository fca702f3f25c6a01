"""Rendering notices from Jinja2 templates that each organisation can override.

Templates are checked when the configuration is loaded: every template of
every organisation is rendered once with sample values, so a broken
placeholder or a missing template is a configuration error at start-up, not
a failure at send time. The first line of a text template is the subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jinja2

from klachtwacht.config import OrganisationConfig
from klachtwacht.errors import TemplateError

__all__ = ["NoticeRenderer", "Rendered", "TEMPLATES", "dutch_date"]

DEFAULTS = Path(__file__).with_name("templates")
#: Every notice kind and whether it has an HTML part.
TEMPLATES = {
    "sender_klacht": True,
    "sender_bezwaar": False,
    "sender_woo": False,
    "secretary_klacht": False,
    "secretary_beleidsvraag": False,
    "secretary_bezwaar": False,
    "secretary_woo": False,
    "forward_bezwaar": False,
    "forward_woo": False,
    "sender_extension": False,  # Awb 9:11 lid 2 (klachtwacht.register.extension)
}
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december")


def dutch_date(value: date) -> str:
    """``23 november 2026``."""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


def _sample(org: OrganisationConfig) -> dict[str, Any]:
    return {
        "org": org,
        "number": "KL-2026-000001",
        "received": date(2026, 3, 2),
        "due": date(2026, 4, 14),
        "subject": "Voorbeeld",
        "sender_name": "J. de Vries",
        "mailbox": "wethouder-voorbeeld",
        "sender_notified": True,
        "decided_by_text": "het model",
        "previous_due": date(2026, 4, 14),
        "extended_due": date(2026, 5, 12),
        "reason": "Wij wachten nog op de reactie van de betrokken medewerker.",
        "consent": False,
    }


class NoticeRenderer:
    """Renders notice kinds per organisation; validated on construction."""

    def __init__(self, organisations: tuple[OrganisationConfig, ...], config_path: str = "") -> None:
        self._envs: dict[str, jinja2.Environment] = {}
        self._organisations = {org.name: org for org in organisations}
        for org in organisations:
            loaders: list[jinja2.BaseLoader] = []
            if org.templates:
                loaders.append(jinja2.FileSystemLoader(org.templates))
            loaders.append(jinja2.FileSystemLoader(str(DEFAULTS)))
            env = jinja2.Environment(
                loader=jinja2.ChoiceLoader(loaders),
                undefined=jinja2.StrictUndefined,
                autoescape=jinja2.select_autoescape(enabled_extensions=("html.jinja",), default_for_string=False),
                keep_trailing_newline=True,
            )
            env.filters["datum"] = dutch_date
            self._envs[org.name] = env
            for kind in TEMPLATES:
                try:
                    self.render(org.name, kind, _sample(org))
                except jinja2.TemplateNotFound as exc:
                    raise TemplateError(config_path, f"organisations.{org.name}.templates", f"template {exc.name} is missing") from exc
                except jinja2.TemplateError as exc:
                    where = getattr(exc, "name", None) or kind
                    line = getattr(exc, "lineno", None)
                    raise TemplateError(
                        config_path, f"organisations.{org.name}.templates", f"template {where}{f' line {line}' if line else ''} is broken: {exc.message or exc}"
                    ) from exc

    def render(self, organisation: str, kind: str, context: dict[str, Any]) -> Rendered:
        """Render notice ``kind`` for ``organisation``."""
        env = self._envs[organisation]
        text = env.get_template(f"{kind}.txt.jinja").render(**context)
        subject, _, body = text.partition("\n")
        html = env.get_template(f"{kind}.html.jinja").render(**context) if TEMPLATES[kind] else None
        return Rendered(subject=subject.strip(), text=body.lstrip("\n"), html=html)
