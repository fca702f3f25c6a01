"""The letter archive: a mailbox that holds a copy of every letter, read back over IMAP.

Why a Bcc in the same SMTP transaction rather than an APPEND to a Sent
folder: the server accepts the letter and its copy with one reply to one
DATA, so the copy exists exactly when the letter went out. An APPEND is a
second, separate act: after a crash between the SMTP reply and the APPEND
the letter went out without a copy (and would be sent again), and an APPEND
made before the send leaves a copy of a letter that may never have gone out
(and would then be lost). The price of the Bcc is delivery time: the copy
reaches the archive a moment after the reply, which ``delivery_grace``
covers.
"""

from __future__ import annotations

from ingest.imap import ImapConnection, translate_error
from ingest.tokens import TokenProvider
from klachtwacht.config import ArchiveConfig

__all__ = ["ImapArchive"]


class ImapArchive:
    """``find`` searches the archive folder for a Message-ID (read-only: EXAMINE and UID SEARCH)."""

    def __init__(self, config: ArchiveConfig, tokens: TokenProvider | None = None) -> None:
        self.config = config
        self.tokens = tokens
        self.settle_seconds = config.delivery_grace

    def find(self, message_id: str) -> bool:
        with ImapConnection(self.config.imap, tokens=self.tokens, label="archive") as connection:
            connection.examine(self.config.folder)
            try:
                found = connection.client.search(["HEADER", "Message-ID", message_id])
            except Exception as exc:
                raise translate_error(exc, "archive: search") from exc
        return bool(found)
