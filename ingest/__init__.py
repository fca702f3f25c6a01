"""Mailbox ingestion: read-only IMAP, cursors, raw bytes, parsing. No database, no web."""

from ingest.records import AUTO_SIGNALS, Address, Attachment, ParsedMessage

__all__ = ["AUTO_SIGNALS", "Address", "Attachment", "ParsedMessage"]
