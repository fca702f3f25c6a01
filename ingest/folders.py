"""Pure folder-name logic: from the name in the configuration to the name on the server.

The configuration names folders as a user sees them, with ``/`` between
levels (``Klachten``, ``Klachten/2026``). Servers differ: Dovecot and
Exchange show ``Klachten`` at the top, Courier and Cyrus without
``altnamespace`` put personal folders under INBOX (``INBOX.Klachten``,
``INBOX/Klachten``), and the hierarchy separator may be ``.`` or ``/``. The
server's ``NAMESPACE`` answer (RFC 2342) tells the prefix and separator; the
candidates are tried in order and the first that exists is used.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["folder_candidates", "CONFIG_SEPARATOR"]

#: The separator between levels in configured folder names.
CONFIG_SEPARATOR = "/"


def folder_candidates(configured: str, personal: Sequence[tuple[str, str | None]], separator: str | None) -> list[str]:
    """The server names ``configured`` may have, most likely first, without repeats.

    ``personal`` is the personal namespace list of the server, as
    ``(prefix, separator)`` pairs (empty without NAMESPACE); ``separator``
    is the hierarchy separator of ``LIST "" ""`` (None when flat).
    """
    if configured.upper() == "INBOX":
        return ["INBOX"]
    out: list[str] = []

    def add(name: str) -> None:
        if name and name not in out:
            out.append(name)

    add(configured)
    for prefix, sep in personal:
        name = _with_separator(configured, sep or separator)
        add(name if name.startswith(prefix) else prefix + name)
    if separator:
        name = _with_separator(configured, separator)
        add(name)
        if not name.upper().startswith("INBOX" + separator):
            add("INBOX" + separator + name)
    return out


def _with_separator(name: str, separator: str | None) -> str:
    if not separator or separator == CONFIG_SEPARATOR:
        return name
    return name.replace(CONFIG_SEPARATOR, separator)
