"""A classifier test double: the label comes from a test header, so flow tests are exact.

Used only where the test is about what happens after classification (rules,
register, notices); the real model has its own tests and runs end to end too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from classifiers.records import Classification
from ingest.records import ParsedMessage

__all__ = ["HeaderLabels"]


@dataclass(frozen=True)
class _Meta:
    register_threshold: float = 0.85
    review_threshold: float = 0.15
    model_id: str = "test-labels@1"


class HeaderLabels:
    """Reads ``[label:klacht p=0.97 sub=bejegening]`` from the subject line."""

    meta = _Meta()

    def classify_parsed(self, parsed: ParsedMessage) -> Classification:
        return self.classify(parsed.subject, parsed.text)

    def classify(self, subject: str, body: str, *, auto_signals: Sequence[str] = (), attachments: int = 0) -> Classification:
        label, p, sub = "overig", 0.9, None
        if "[label:" in subject:
            spec = subject.split("[label:", 1)[1].split("]", 1)[0].split()
            label = spec[0]
            for part in spec[1:]:
                key, _, value = part.partition("=")
                if key == "p":
                    p = float(value)
                elif key == "sub":
                    sub = value
        rest = (1.0 - p) / 2
        scores = {"klacht": rest, "beleidsvraag": rest, "overig": rest}
        scores[label] = p
        return Classification(label=label, confidence=p, scores=scores, reasons=("testlabel",), model=self.meta.model_id, subtype=sub)
