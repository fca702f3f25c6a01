"""One line of ``klachtwacht check``, and the table or JSON of all of them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

__all__ = ["CheckResult", "OK", "WARN", "FAIL", "table", "as_json", "passed"]

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class CheckResult:
    """``name`` (what was checked), ``status`` (ok, warn or fail), ``detail`` (what was found or what to do).

    ``warn`` passes: it points at something to know (no IDLE, so polling only).
    """

    name: str
    status: str
    detail: str
    seconds: float | None = None


def passed(results: Sequence[CheckResult]) -> bool:
    """True when no check failed."""
    return all(r.status != FAIL for r in results)


def table(results: Sequence[CheckResult]) -> str:
    """A plain-text table: one line per check."""
    width = max((len(r.name) for r in results), default=10)
    lines = [f"{'check':{width}}  {'':4}  detail"]
    for r in results:
        lines.append(f"{r.name:{width}}  {r.status.upper():4}  {r.detail}")
    failed = sum(r.status == FAIL for r in results)
    lines.append("")
    lines.append(f"{len(results)} checks: {len(results) - failed} passed, {failed} failed" if failed else f"{len(results)} checks passed")
    return "\n".join(lines)


def as_json(results: Sequence[CheckResult]) -> str:
    """One JSON object: ``ok`` and the ``checks``."""
    return json.dumps({"ok": passed(results), "checks": [asdict(r) for r in results]}, ensure_ascii=False)
