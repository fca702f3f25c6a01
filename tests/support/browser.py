"""Debian's chromium driven by Playwright, and the axe-core accessibility check.

No browser is downloaded: Playwright starts the system ``chromium``
(``executable_path``). A missing chromium or Playwright fails in CI and skips
elsewhere (``support.services``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from support.services import missing

__all__ = ["chromium_path", "browser_page", "axe_violations", "AXE"]

AXE = Path(__file__).with_name("vendor") / "axe-core" / "axe.min.js"
#: The rule sets of WCAG 2.1 A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    missing("chromium is not installed (apt-get install chromium)")


@contextmanager
def browser_page(**context: Any) -> Iterator[Any]:
    """A fresh page in a headless chromium; every request it makes is recorded in ``page.requests_seen``."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright for Python is not installed (pip install playwright)")
    executable = chromium_path()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = browser.new_context(**context).new_page()
            seen: list[str] = []
            page.on("request", lambda request: seen.append(request.url))
            page.requests_seen = seen
            yield page
        finally:
            browser.close()


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """Run axe-core on the page; return the violations of WCAG 2.1 A/AA with one of ``impacts``."""
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
    return [v for v in result["violations"] if v.get("impact") in impacts]
