"""Every hostile mail, rendered as the review app renders it, in Debian's chromium.

The test app (``support.mailview``) embeds ``/body/N`` in an ``<iframe
sandbox>`` and serves ``body_document(sanitize(...))`` there under
``body_response_headers()`` (BODY_CSP). Every request the browser makes is
intercepted: only the page, its body and the mail's own ``cid:`` images may
load, nothing else on 127.0.0.1 and nothing anywhere else. No dialog may open,
no payload may log to the console or raise, and ``window.__pwned`` stays
undefined in every frame, also after the mouse has gone over the body, the
keyboard has tabbed through it and every link was clicked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from support.browser import browser_page
from support.mailview import Shown, cid_path, mail_view_app, serving

from klachtwacht.web.mailparts import html_of, inline_parts
from klachtwacht.web.safe_html import APP_CSP, BLOCKED_IMAGE, body_document, body_response_headers, sanitize, text_to_html

HOSTILE = Path(__file__).with_name("hostile")
CORPUS = sorted(HOSTILE.glob("*.eml"))


@dataclass
class Watch:
    """What the browser did while one mail was shown."""

    base: str
    allowed: set[str] = field(default_factory=set)  # paths on base that may load
    loaded: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # every other request, stopped before it left
    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def reset(self, allowed: set[str]) -> None:
        self.allowed = allowed
        for seen in (self.loaded, self.refused, self.dialogs, self.console, self.errors):
            seen.clear()


def watch(page: Any, base: str) -> Watch:
    seen = Watch(base)

    def route(route: Any) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if "%s://%s" % (parts.scheme, parts.netloc) == base and parts.path in seen.allowed:
            seen.loaded.append(parts.path)
            route.continue_()
        else:
            seen.refused.append(url)
            route.abort()

    def dialog(d: Any) -> None:
        seen.dialogs.append(d.message)
        d.dismiss()

    page.route("**/*", route)
    page.on("dialog", dialog)
    page.on("console", lambda message: seen.console.append(message.text))
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    return seen


def shown(number: int, raw: bytes, render: Callable[[str | None, dict[str, tuple[str, bytes]]], str], **options: Any) -> Shown:
    parts = inline_parts(raw)
    return Shown(render(html_of(raw), parts), images=parts, **options)


def safely(number: int) -> Callable[[str | None, dict[str, tuple[str, bytes]]], str]:
    def render(html: str | None, parts: dict[str, tuple[str, bytes]]) -> str:
        if html is None:
            return body_document(text_to_html("Beste,\n<script>window.__pwned=1;alert(1)</script>\nhttps://phish.example/"))
        return body_document(sanitize(html, cid_url=lambda cid: cid_path(number, cid) if cid in parts else None))

    return render


def show(page: Any, seen: Watch, number: int, body: Shown) -> Any:
    """Open /page/N, poke at the body, return the body's frame."""
    seen.reset({"/page/%d" % number, "/body/%d" % number} | {cid_path(number, cid) for cid in body.images})
    page.goto("%s/page/%d" % (seen.base, number), wait_until="load")
    frame = page.frame_locator("iframe")
    box = page.locator("iframe").bounding_box()
    for i in range(6):
        page.mouse.move(box["x"] + 20 + (i % 3) * box["width"] / 3, box["y"] + 20 + (i // 3) * box["height"] / 2)
    for _ in range(3):
        page.keyboard.press("Tab")
    links = frame.locator("a")
    for i in range(min(links.count(), 10)):
        if links.nth(i).is_visible():
            links.nth(i).click(timeout=2000, no_wait_after=True)
    page.wait_for_timeout(150)
    return page.frames[1] if len(page.frames) > 1 else None


def pwned(page: Any) -> list[str]:
    """The frames in which ``window.__pwned`` is defined."""
    return [f.url for f in page.frames if f.evaluate("() => typeof window.__pwned") != "undefined"]


@pytest.fixture(scope="module")
def bodies() -> dict[int, bytes]:
    return {number: path.read_bytes() for number, path in enumerate(CORPUS, start=1)}


@pytest.fixture
def browser() -> Iterator[Any]:
    with browser_page() as page:  # a fresh page per test: its listeners and routes are the test's own
        yield page


def assert_inert(seen: Watch, page: Any, name: str) -> None:
    assert seen.refused == [], (name, seen.refused)
    assert seen.dialogs == [], (name, seen.dialogs)
    assert not [m for m in seen.console if "PWNED" in m], name
    assert seen.errors == [], (name, seen.errors)
    assert pwned(page) == [], name


@pytest.mark.slow
@pytest.mark.parametrize("sandbox", ["", "allow-same-origin"], ids=["sandbox", "sandbox-same-origin"])
def test_no_hostile_mail_runs_a_script_opens_a_dialog_or_sends_a_request_anywhere(browser: Any, bodies: dict[int, bytes], sandbox: str) -> None:
    shows = {
        n: shown(n, raw, safely(n), headers=body_response_headers(), sandbox=sandbox, page_headers={"Content-Security-Policy": APP_CSP})
        for n, raw in bodies.items()
    }
    with serving(mail_view_app(shows)) as base:
        seen = watch(browser, base)
        for number, path in enumerate(CORPUS, start=1):
            frame = show(browser, seen, number, shows[number])
            assert_inert(seen, browser, path.name)
            assert frame is not None and frame.url == "%s/body/%d" % (base, number), path.name  # never navigated away
            assert "/body/%d" % number in seen.loaded


@pytest.mark.slow
def test_the_sanitiser_alone_keeps_every_hostile_mail_inert_without_csp_or_sandbox(browser: Any, bodies: dict[int, bytes]) -> None:
    shows = {n: shown(n, raw, safely(n), sandbox=None) for n, raw in bodies.items()}
    with serving(mail_view_app(shows)) as base:
        seen = watch(browser, base)
        for number, path in enumerate(CORPUS, start=1):
            show(browser, seen, number, shows[number])
            assert_inert(seen, browser, path.name)


def test_the_browser_check_catches_scripts_dialogs_and_requests_when_nothing_protects(browser: Any, bodies: dict[int, bytes]) -> None:
    names = [p.name for p in CORPUS]
    raw_html = {n: shown(n, raw, lambda html, parts: html or "", sandbox=None) for n, raw in bodies.items()}
    with serving(mail_view_app(raw_html)) as base:
        seen = watch(browser, base)
        script = names.index("01-script-tag.eml") + 1
        show(browser, seen, script, raw_html[script])
        assert seen.dialogs and pwned(browser) and any("PWNED" in m for m in seen.console)
        assert "http://evil.example/x.js" in seen.refused
        pixel = names.index("14-remote-image.eml") + 1
        show(browser, seen, pixel, raw_html[pixel])
        assert "http://tracker.example/logo.png" in seen.refused


def test_a_cid_image_is_shown_from_the_local_url_and_a_remote_one_as_the_dutch_placeholder(browser: Any, bodies: dict[int, bytes]) -> None:
    number = [p.name for p in CORPUS].index("34-cid-image.eml") + 1
    cookies: list[str] = []
    body = shown(number, bodies[number], safely(number), headers=body_response_headers(), sandbox="allow-same-origin")
    with serving(mail_view_app({number: body}, cookie_seen=cookies)) as base:
        seen = watch(browser, base)
        frame = show(browser, seen, number, body)
        assert frame.evaluate("() => Array.from(document.images).map(i => i.naturalWidth)") == [1]
        assert seen.loaded.count(cid_path(number, "logo@gemeente.example")) == 1
        assert cookies == ["geheim"]  # allow-same-origin: the session cookie goes with the image request
        assert frame.locator(".kw-blocked").first.inner_text().startswith(BLOCKED_IMAGE[:-1])


def test_a_neutralised_link_shows_its_target_and_clicking_it_goes_nowhere(browser: Any, bodies: dict[int, bytes]) -> None:
    number = [p.name for p in CORPUS].index("29-links-neutralised.eml") + 1
    body = shown(number, bodies[number], safely(number), headers=body_response_headers())
    with serving(mail_view_app({number: body})) as base:
        seen = watch(browser, base)
        frame = show(browser, seen, number, body)
        bank = frame.get_by_text("uw bank")
        shown_target = bank.evaluate("a => getComputedStyle(a, '::after').content")
        assert shown_target == '" [https://bank.example/]"'
        bank.click()
        browser.wait_for_timeout(200)
        assert seen.refused == [] and frame.url.endswith("/body/%d" % number) and len(browser.context.pages) == 1


def test_without_chromium_the_browser_tests_fail_in_ci_instead_of_skipping(monkeypatch: pytest.MonkeyPatch) -> None:
    from support.browser import chromium_path

    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="chromium is not installed"):
        chromium_path()
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception):
        chromium_path()


@pytest.mark.parametrize("name", ["34-cid-image.eml", "29-links-neutralised.eml", "36-plain-text.eml"])
def test_the_body_document_passes_the_accessibility_check(bodies: dict[int, bytes], name: str) -> None:
    from support.browser import axe_violations

    number = [p.name for p in CORPUS].index(name) + 1
    body = shown(number, bodies[number], safely(number))  # served without its CSP here: axe is a script
    with serving(mail_view_app({number: body})) as base, browser_page() as page:
        page.goto("%s/body/%d" % (base, number))
        assert page.evaluate("() => document.documentElement.lang") == "nl"
        assert axe_violations(page) == []
