"""A read-only Microsoft Graph client: GET only, tokens renewed, throttling honoured.

The class has no method for any verb but GET, so the mailbox source cannot
change a message (no PATCH of ``isRead``, no move, no delete). Every request
carries an app-only token from the :class:`ingest.tokens.TokenProvider`
(MSAL's client-credentials flow with :data:`GRAPH_SCOPE`); a 401 asks once
for a fresh token and repeats the same request, so a token that expires in
the middle of a delta sync costs no page. 429, 503 and 504 are waited out as
the server's ``Retry-After`` says, by every thread of this mailbox at once
(Graph throttles per app and mailbox), and at most :attr:`concurrency`
requests run at a time (Graph allows four per mailbox). Errors leave this
module as :mod:`klachtwacht.errors` exceptions; a 410 as :class:`SyncStateGone`.
"""

from __future__ import annotations

import email.utils
import logging
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

import httpx

from ingest.tokens import TokenProvider
from klachtwacht.errors import AuthenticationFailed, FolderMissing, KlachtwachtError, MailboxThrottled, MailboxUnavailable

__all__ = ["GraphClient", "SyncStateGone", "GRAPH_SCOPE", "GRAPH_ENDPOINT", "RETRY_STATUSES", "retry_after_seconds"]

log = logging.getLogger(__name__)

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
GRAPH_ENDPOINT = "https://graph.microsoft.com/v1.0"
#: Answers that mean "later": throttled, unavailable, gateway timeout.
RETRY_STATUSES = (429, 503, 504)
#: Seconds to wait on a retryable answer without ``Retry-After``, doubled per try.
DEFAULT_WAIT = 2.0


class SyncStateGone(KlachtwachtError):
    """Raised when Graph no longer knows a delta or skip token (410 Gone, ``syncStateNotFound``): a full resync is due."""


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110 10.2.3); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, Mapping) else None
    return str(error.get("code", "")) if isinstance(error, Mapping) else ""


class GraphClient:
    """GET requests to Graph for one mailbox, thread-safe.

    ``endpoint`` is the API root (:data:`GRAPH_ENDPOINT`, or a national
    cloud's); ``verify`` a CA file or True; ``attempts`` bounds the tries of
    one request on throttling; ``max_wait`` bounds one wait (a longer
    ``Retry-After`` ends the request with :class:`MailboxThrottled`, whose
    ``retry_after`` the poller honours). ``transport`` is for unit tests.
    """

    def __init__(
        self,
        endpoint: str,
        tokens: TokenProvider,
        *,
        label: str = "graph",
        concurrency: int = 4,
        timeout: float = 60.0,
        verify: str | bool = True,
        attempts: int = 6,
        max_wait: float = 120.0,
        sleep: Callable[[float], object] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.tokens = tokens
        self.label = label
        self.concurrency = concurrency
        self.attempts = attempts
        self.max_wait = max_wait
        self._sleep = sleep
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._not_before = 0.0  # time.monotonic() before which no request is sent (after a Retry-After)
        trust: ssl.SSLContext | bool = ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify
        self._http = httpx.Client(timeout=timeout, verify=trust, transport=transport, follow_redirects=False)
        #: Seconds waited because the server asked (429/503/504), for tests and metrics.
        self.waited = 0.0
        self.requests = 0

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        """An absolute URL: ``path`` below the endpoint, or ``path`` itself when it is one (a nextLink)."""
        return path if path.startswith(("https://", "http://")) else f"{self.endpoint}/{path.lstrip('/')}"

    def get_json(self, path: str, *, params: Mapping[str, str] | None = None, prefer: str | None = None) -> dict[str, Any]:
        """GET ``path`` and return its JSON object."""
        response = self._get(path, params=params, prefer=prefer)
        try:
            body = response.json()
        except ValueError as exc:
            raise MailboxUnavailable(f"{self.label}: Graph answered {path.split('?')[0]!r} with something that is not JSON") from exc
        if not isinstance(body, dict):
            raise MailboxUnavailable(f"{self.label}: Graph answered {path.split('?')[0]!r} with JSON that is not an object")
        return body

    def get_bytes(self, path: str) -> bytes:
        """GET ``path`` and return the body as it came (``$value``: the message's MIME bytes)."""
        return self._get(path).content

    # -- the one request loop --------------------------------------------
    def _bearer(self, refresh: bool) -> str:
        """The provider's token: MSAL answers from its cache and renews it shortly before it expires."""
        return self.tokens.token(refresh=refresh)

    def _wait_turn(self) -> None:
        with self._lock:
            pause = self._not_before - time.monotonic()
        if pause > 0:
            self._sleep(pause)

    def _hold_off(self, seconds: float) -> None:
        with self._lock:
            self._not_before = max(self._not_before, time.monotonic() + seconds)
            self.waited += seconds

    def _get(self, path: str, *, params: Mapping[str, str] | None = None, prefer: str | None = None) -> httpx.Response:
        url = self.url(path)
        where = url.split("?")[0].removeprefix(self.endpoint)
        refreshed = False
        token = self._bearer(False)
        for attempt in range(self.attempts):
            self._wait_turn()
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            if prefer:
                headers["Prefer"] = prefer
            try:
                with self._slots:
                    self.requests += 1
                    response = self._http.get(url, params=params, headers=headers)
            except httpx.TimeoutException as exc:
                raise MailboxUnavailable(f"{self.label}: Graph did not answer in time ({where})") from exc
            except httpx.HTTPError as exc:
                raise MailboxUnavailable(f"{self.label}: cannot reach Graph ({type(exc).__name__}: {exc})") from exc
            status = response.status_code
            if status == 200:
                return response
            code = _error_code(response)
            if status == 401 and not refreshed:
                refreshed = True  # expired or revoked mid-sync: a new token, the same request
                log.info("graph %s: token refused (%s); asking Entra ID for a new one", self.label, code or status)
                token = self._bearer(True)
                continue
            if status in (401, 403):
                raise AuthenticationFailed(f"{self.label}: Graph refused access ({status} {code}); check Mail.Read and the mailbox scope of the app")
            if status == 404:
                raise FolderMissing(f"{self.label}: not found on Graph ({where}, {code or 404})")
            if status == 410:
                raise SyncStateGone(f"{self.label}: Graph no longer knows this sync state ({code or 410})")
            if status in RETRY_STATUSES:
                hint = retry_after_seconds(response.headers.get("Retry-After"))
                wait = hint if hint is not None else DEFAULT_WAIT * 2**attempt
                if wait > self.max_wait or attempt == self.attempts - 1:
                    raise MailboxThrottled(f"{self.label}: Graph is throttling us ({status})", retry_after=wait)
                log.warning("graph %s: %d %s; waiting %.1f s as asked (try %d of %d)", self.label, status, code, wait, attempt + 2, self.attempts)
                self._hold_off(wait)
                continue
            raise MailboxUnavailable(f"{self.label}: Graph answered {status} {code} ({where})")
        raise MailboxThrottled(f"{self.label}: Graph kept refusing ({where})", retry_after=self.max_wait)
