"""Register completeness for the ZGW backend: every zaak klachtwacht made is still in the zaaksysteem.

Each register entry of the zgw backend keeps its zaak's URL; the nightly run
asks the Zaken API for it (``GET zaken/{uuid}``, read-only). A zaak that is
gone (404) is reported with its register number and never "repaired" by
making a new zaak: who removed it, and why, is for a person to find out. A
Zaken API that cannot answer stops the check with one finding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from klachtwacht.db.models import RegisterEntry
from klachtwacht.errors import KlachtwachtError
from klachtwacht.reconcile.facts import first_mailboxes
from klachtwacht.reconcile.findings import Finding

__all__ = ["ZaakRef", "zaak_refs", "check_zaken"]


@dataclass(frozen=True, slots=True)
class ZaakRef:
    """One register entry and the URL of its zaak."""

    number: str
    message_pk: int
    url: str
    mailbox: str | None


def zaak_refs(session: Session) -> list[ZaakRef]:
    """Every register entry of the zgw backend that has a zaak, oldest first."""
    rows = list(session.execute(
        select(RegisterEntry.number, RegisterEntry.message_pk, RegisterEntry.external_ref)
        .where(RegisterEntry.backend == "zgw", RegisterEntry.external_ref.is_not(None))
        .order_by(RegisterEntry.id)
    ))
    boxes = first_mailboxes(session, {pk for _, pk, _ in rows})
    return [ZaakRef(number, pk, str(url), boxes.get(pk)) for number, pk, url in rows]


def check_zaken(refs: Iterable[ZaakRef], exists: Callable[[str], bool]) -> list[Finding]:
    """A critical finding per zaak that ``exists(url)`` says is gone; one finding when the API cannot answer."""
    out: list[Finding] = []
    checked = 0
    for ref in refs:
        try:
            present = exists(ref.url)
        except KlachtwachtError as exc:
            out.append(Finding("register_unreachable", "critical", (
                "Het zaaksysteem kon niet bevestigen dat de zaken van de klachten nog bestaan (%d van de zaken gecontroleerd): %s."
                % (checked, str(exc)[:300]))))
            return out
        checked += 1
        if not present:
            out.append(Finding("register_zaak_missing", "critical", (
                "Klacht %s: zaak verdwenen uit het zaaksysteem (%s). Er is geen nieuwe zaak aangemaakt; "
                "zoek uit waarom de zaak is verwijderd en registreer de klacht zo nodig opnieuw." % (ref.number, ref.url)),
                ref.mailbox, (ref.message_pk,)))
    return out
