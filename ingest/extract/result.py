"""What reading one attachment gives: its text, whether all of it was read, and what went wrong."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Extraction", "ExtractionError"]


class ExtractionError(Exception):
    """Raised inside an extractor when an attachment cannot be read; the message names the problem (no content)."""


@dataclass(frozen=True, slots=True)
class Extraction:
    """The text of one attachment (possibly empty), ``complete`` when nothing was left out, defects, and whether OCR read it."""

    text: str
    complete: bool = True
    defects: tuple[str, ...] = field(default=())
    ocr: bool = False  # some of the text was read by OCR

    def to_json(self) -> dict[str, object]:
        return {"text": self.text, "complete": self.complete, "defects": list(self.defects), "ocr": self.ocr}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Extraction:
        defects = data.get("defects")
        return cls(
            text=str(data.get("text") or ""),
            complete=bool(data.get("complete")),
            defects=tuple(str(d) for d in defects) if isinstance(defects, list) else (),
            ocr=bool(data.get("ocr")),
        )
