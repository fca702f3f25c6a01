"""``klachtwacht check`` for a mailbox read over Microsoft Graph: a token, each folder found and counted; nothing is changed."""

from __future__ import annotations

import time
from urllib.parse import quote

from klachtwacht.check.result import FAIL, OK, CheckResult
from klachtwacht.config import MailboxConfig
from klachtwacht.errors import AuthenticationFailed, ConfigError, FolderMissing, KlachtwachtError, MailboxThrottled

__all__ = ["check_graph_mailbox"]


def check_graph_mailbox(mailbox: MailboxConfig, index: int) -> list[CheckResult]:
    """Get a token (no retry), find every folder and read its message count (GET only)."""
    from klachtwacht.graphbox import graph_mailbox

    graph = mailbox.graph
    assert graph is not None
    name = f"mailbox {mailbox.name}"
    key = f"mailboxes[{index}].graph"
    started = time.monotonic()
    try:
        source = graph_mailbox(mailbox)
    except ConfigError as exc:
        return [CheckResult(name, FAIL, f"configuration error: {exc}")]
    results: list[CheckResult] = []
    try:
        for number, folder in enumerate(mailbox.folders):
            folder_started = time.monotonic()
            try:
                folder_id = source.resolve(folder)
                info = source.client.get_json(f"users/{quote(graph.user, safe='@')}/mailFolders/{quote(folder_id)}", params={"$select": "id,displayName,totalItemCount"})
            except AuthenticationFailed as exc:
                return [CheckResult(name, FAIL, f"{key}: {_short(exc, mailbox.name)}; check tenant_id, client_id, the client secret, "
                                                f"the Mail.Read application permission with admin consent, and that the app may read {graph.user}")]
            except FolderMissing as exc:
                results.append(CheckResult(f"{name} {folder}", FAIL, f"mailboxes[{index}].folders: {folder!r} not found ({_short(exc, mailbox.name)}); correct the folder name"))
                continue
            except MailboxThrottled as exc:
                results.append(CheckResult(f"{name} {folder}", FAIL, f"throttled by Graph ({exc}); it answers again after {exc.retry_after or 60:.0f} s"))
                break
            except KlachtwachtError as exc:
                return [CheckResult(name, FAIL, f"{key}: Graph at {graph.endpoint} {_short(exc, mailbox.name)}; check endpoint, authority and ca_file")]
            if number == 0:
                results.append(CheckResult(name, OK, f"token for {graph.user} from {graph.authority}; Graph at {graph.endpoint}; "
                                                     f"polling every {mailbox.poll_interval:.0f} s", time.monotonic() - started))
            results.append(CheckResult(f"{name} {folder}", OK, f"{info.get('totalItemCount', '?')} messages, read-only (GET only)", time.monotonic() - folder_started))
    finally:
        source.client.close()
    return results


def _short(exc: BaseException, label: str) -> str:
    return str(exc).removeprefix(f"{label}: ")
