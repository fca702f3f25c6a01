"""A small read-only IMAP4rev1 server for the demo on a fresh machine.

It speaks just what klachtwacht uses (CAPABILITY, LOGIN, EXAMINE/SELECT,
UID SEARCH, UID FETCH of BODY.PEEK[] / INTERNALDATE / RFC822.SIZE, NOOP, IDLE,
LOGOUT) over loopback, from messages held in memory. It is a stand-in for a
real mail server in ``klachtwacht demo`` only: the tests use Dovecot.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["DemoImapServer"]

_COMMAND = re.compile(rb"^(\S+) (\S+)(?: (.*))?$")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass
class _Folder:
    uidvalidity: int
    messages: list[tuple[int, datetime, bytes]] = field(default_factory=list)  # (uid, internaldate, raw)

    @property
    def uidnext(self) -> int:
        return (self.messages[-1][0] + 1) if self.messages else 1


def _imap_date(moment: datetime) -> str:
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "+" if minutes >= 0 else "-"
    return f'"{moment.day:02d}-{_MONTHS[moment.month - 1]}-{moment.year} {moment:%H:%M:%S} {sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"'


def _sequence(spec: str, highest: int) -> set[int]:
    result: set[int] = set()
    for part in spec.split(","):
        if ":" in part:
            a, b = part.split(":", 1)
            lo = highest if a == "*" else int(a)
            hi = highest if b == "*" else int(b)
            result.update(range(min(lo, hi), max(lo, hi) + 1))
        else:
            result.add(highest if part == "*" else int(part))
    return result


class DemoImapServer:
    """``add(user, password, folder, raw, internaldate)`` then ``start()``; ``port`` tells where."""

    def __init__(self) -> None:
        self._users: dict[str, tuple[str, dict[str, _Folder]]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    def add(self, user: str, password: str, folder: str, raw: bytes, internaldate: datetime) -> None:
        _, folders = self._users.setdefault(user, (password, {}))
        box = folders.setdefault(folder, _Folder(uidvalidity=1000 + len(folders)))
        box.messages.append((box.uidnext, internaldate, raw))

    def start(self) -> None:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._server = self._loop.run_until_complete(asyncio.start_server(self._session, "127.0.0.1", 0))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="demo-imap", daemon=True)
        self._thread.start()
        ready.wait(10)

    def stop(self) -> None:
        if self._loop is None:
            return
        loop = self._loop

        def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            loop.stop()

        loop.call_soon_threadsafe(shutdown)
        if self._thread is not None:
            self._thread.join(5)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        user: str | None = None
        folder: _Folder | None = None
        caps = "IMAP4rev1 IDLE UIDPLUS AUTH=PLAIN"

        def send(line: str | bytes) -> None:
            writer.write((line.encode() if isinstance(line, str) else line) + b"\r\n")

        send(f"* OK [CAPABILITY {caps}] klachtwacht demo IMAP ready")
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                match = _COMMAND.match(line.rstrip(b"\r\n"))
                if match is None:
                    send("* BAD unreadable command")
                    continue
                tag, verb, args = match.group(1).decode(), match.group(2).decode().upper(), (match.group(3) or b"").decode()
                if verb == "CAPABILITY":
                    send(f"* CAPABILITY {caps}")
                    send(f"{tag} OK CAPABILITY completed")
                elif verb == "LOGIN":
                    name, _, password = args.partition(" ")
                    name, password = name.strip('"'), password.strip('"')
                    if name in self._users and self._users[name][0] == password:
                        user = name
                        send(f"{tag} OK LOGIN completed")
                    else:
                        send(f"{tag} NO [AUTHENTICATIONFAILED] Authentication failed.")
                elif verb in ("EXAMINE", "SELECT") and user is not None:
                    name = args.strip('"')
                    folder = self._users[user][1].get(name)
                    if folder is None:
                        send(f"{tag} NO [NONEXISTENT] Mailbox doesn't exist: {name}")
                        continue
                    send(f"* {len(folder.messages)} EXISTS")
                    send("* 0 RECENT")
                    send(f"* OK [UIDVALIDITY {folder.uidvalidity}] UIDs valid")
                    send(f"* OK [UIDNEXT {folder.uidnext}] Predicted next UID")
                    send("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)")
                    send(f"{tag} OK [READ-ONLY] {verb} completed")
                elif verb == "UID" and folder is not None:
                    self._uid(tag, args, folder, send)
                elif verb == "NOOP":
                    send(f"{tag} OK NOOP completed")
                elif verb == "IDLE":
                    send("+ idling")
                    await reader.readline()  # DONE
                    send(f"{tag} OK IDLE terminated")
                elif verb == "LOGOUT":
                    send("* BYE logging out")
                    send(f"{tag} OK LOGOUT completed")
                    await writer.drain()
                    return
                else:
                    send(f"{tag} BAD {verb} is not supported here")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    @staticmethod
    def _uid(tag: str, args: str, folder: _Folder, emit: Callable[[str | bytes], None]) -> None:
        sub, _, rest = args.partition(" ")
        highest = folder.messages[-1][0] if folder.messages else 0
        if sub.upper() == "SEARCH":
            spec = rest.split()[-1]
            wanted = _sequence(spec, highest)
            found = [str(uid) for uid, _, _ in folder.messages if uid in wanted]
            emit("* SEARCH " + " ".join(found) if found else "* SEARCH")
            emit(f"{tag} OK SEARCH completed")
            return
        if sub.upper() == "FETCH":
            spec, _, items = rest.partition(" ")
            wanted = _sequence(spec, highest)
            body = "BODY" in items.upper()
            for seq, (uid, date, raw) in enumerate(folder.messages, start=1):
                if uid not in wanted:
                    continue
                head = f"* {seq} FETCH (UID {uid} RFC822.SIZE {len(raw)} INTERNALDATE {_imap_date(date)}"
                if body:
                    emit(f"{head} BODY[] {{{len(raw)}}}".encode() + b"\r\n" + raw + b")")
                else:
                    emit(head + ")")
            emit(f"{tag} OK FETCH completed")
            return
        emit(f"{tag} BAD UID {sub} is not supported here")
