"""A loopback TCP proxy that can misbehave on command, for network-failure tests.

Put it between the code under test and a real server (Dovecot, SMTP) and
cut connections, stop a download after so many bytes, or refuse new
connections, exactly when a test wants::

    with TcpProxy("127.0.0.1", dovecot.port) as proxy:
        client = IMAPClient(proxy.host, proxy.port, ssl=False)
        proxy.cut_all()            # the next call on ``client`` raises

One background thread moves all bytes with a selector; the control methods
hand their work to that thread and return once it is done.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import selectors
import socket
import struct
import threading
from collections.abc import Callable
from types import TracebackType

__all__ = ["TcpProxy"]

log = logging.getLogger(__name__)

#: Bytes read from a socket at a time.
CHUNK = 65536
#: Stop reading from one side while this much waits to be written to the other.
MAX_BUFFER = 1 << 20
#: Seconds allowed to reach the target when a client connects.
CONNECT_TIMEOUT = 5.0
#: Seconds a control call waits for the proxy thread.
CONTROL_TIMEOUT = 10.0


class _Command:
    """A control action run on the proxy thread, with its outcome."""

    def __init__(self, action: Callable[[], None]) -> None:
        self.action = action
        self.done = threading.Event()
        self.error: Exception | None = None


class _Pipe:
    """One client connection and its connection to the target."""

    def __init__(self, client: socket.socket, upstream: socket.socket, budget: int | None) -> None:
        self.client = client
        self.upstream = upstream
        self.to_upstream = bytearray()
        self.to_client = bytearray()
        #: Server->client bytes still allowed before the pipe is cut (None: no limit).
        self.budget = budget
        self.cut_when_flushed = False
        self.client_eof = False
        self.upstream_eof = False
        self.closed = False

    def sockets(self) -> tuple[socket.socket, socket.socket]:
        return self.client, self.upstream


class TcpProxy:
    """Forward ``127.0.0.1:port`` to ``target_host:target_port`` until told otherwise.

    Control methods: :meth:`cut_all`, :meth:`cut_after_bytes`,
    :meth:`refuse`, :meth:`close`. Counters: :attr:`active_connections`,
    :attr:`total_connections`.
    """

    def __init__(self, target_host: str, target_port: int, *, listen_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.host = listen_host
        self._selector = selectors.DefaultSelector()
        self._pipes: dict[socket.socket, _Pipe] = {}
        self._budget: int | None = None
        self._total = 0
        self._commands: queue.Queue[_Command] = queue.Queue()
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._selector.register(self._wake_read, selectors.EVENT_READ)
        self._listener: socket.socket | None = None
        self.port = self._listen(0)
        self._running = True
        self._thread = threading.Thread(target=self._loop, name="tcpproxy-%d" % self.port, daemon=True)
        self._thread.start()
        log.debug("proxy 127.0.0.1:%d -> %s:%d", self.port, target_host, target_port)

    # -- public control --------------------------------------------------

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def active_connections(self) -> int:
        """Connections currently forwarded."""
        return len({id(pipe) for pipe in self._pipes.values()})

    @property
    def total_connections(self) -> int:
        """Connections accepted since the proxy started."""
        return self._total

    def cut_all(self, *, reset: bool = False) -> None:
        """Drop every live connection now, on both sides.

        With ``reset=True`` the client gets a TCP reset (ECONNRESET) instead
        of an orderly end of stream. New connections are still accepted.
        """
        self._call(lambda: self._cut_everything(reset))

    def cut_after_bytes(self, n: int | None) -> None:
        """Drop connections after ``n`` more bytes went from server to client.

        Applies to live connections (counted from this call) and to every new
        one (counted from its start) until ``cut_after_bytes(None)``. The
        client receives exactly ``n`` bytes, then the connection is closed:
        a server going away in the middle of a FETCH.
        """
        if n is not None and n < 0:
            raise ValueError("n must be >= 0 or None")

        def apply() -> None:
            self._budget = n
            for pipe in set(self._pipes.values()):
                pipe.budget = n
                self._charge(pipe, b"")

        self._call(apply)

    def refuse(self, refusing: bool = True) -> None:
        """Refuse (True) or accept again (False) new connections.

        Refusing closes the listening socket, so clients get ECONNREFUSED;
        live connections are not touched (combine with :meth:`cut_all`).
        """

        def apply() -> None:
            if refusing and self._listener is not None:
                self._selector.unregister(self._listener)
                self._listener.close()
                self._listener = None
            elif not refusing and self._listener is None:
                self._listen(self.port)

        self._call(apply)

    def close(self) -> None:
        """Drop all connections, stop listening and end the thread."""
        if not self._running:
            return

        def stop() -> None:
            self._cut_everything(False)
            if self._listener is not None:
                self._selector.unregister(self._listener)
                self._listener.close()
                self._listener = None
            self._running = False

        self._call(stop)
        self._thread.join(CONTROL_TIMEOUT)
        self._selector.close()
        self._wake_read.close()
        self._wake_write.close()

    # -- proxy thread ----------------------------------------------------

    def _call(self, action: Callable[[], None]) -> None:
        if not self._running:
            raise RuntimeError("the proxy is closed")
        command = _Command(action)
        self._commands.put(command)
        self._wake_write.send(b"x")
        if not command.done.wait(CONTROL_TIMEOUT):
            raise RuntimeError("the proxy thread did not answer within %.0f s" % CONTROL_TIMEOUT)
        if command.error is not None:
            raise command.error

    def _listen(self, port: int) -> int:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, port))
        listener.listen(64)
        listener.setblocking(False)
        self._listener = listener
        self._selector.register(listener, selectors.EVENT_READ)
        bound: int = listener.getsockname()[1]
        return bound

    def _loop(self) -> None:
        while self._running:
            for key, events in self._selector.select(timeout=1.0):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is self._wake_read:
                    self._run_commands()
                elif sock is self._listener:
                    self._accept()
                elif sock in self._pipes:
                    pipe = self._pipes[sock]
                    try:
                        self._service(pipe, sock, events)
                    except Exception:  # keep the proxy alive for the other connections
                        log.exception("proxy on port %d failed on a connection", self.port)
                        self._drop(pipe, reset=True)
                if not self._running:
                    break

    def _run_commands(self) -> None:
        with contextlib.suppress(BlockingIOError):
            self._wake_read.recv(4096)
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            try:
                command.action()
            except Exception as exc:  # handed to the caller of _call
                command.error = exc
            finally:
                command.done.set()

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            client, _address = self._listener.accept()
        except BlockingIOError:
            return
        self._total += 1
        try:
            upstream = socket.create_connection(self.target, timeout=CONNECT_TIMEOUT)
        except OSError as exc:
            log.info("proxy could not reach %s:%d: %s", self.target[0], self.target[1], exc)
            client.close()
            return
        for sock in (client, upstream):
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pipe = _Pipe(client, upstream, self._budget)
        for sock in pipe.sockets():
            self._pipes[sock] = pipe
        self._update(pipe)
        if pipe.budget == 0:
            self._drop(pipe, reset=False)

    def _service(self, pipe: _Pipe, sock: socket.socket, events: int) -> None:
        from_client = sock is pipe.client
        other = pipe.upstream if from_client else pipe.client
        if events & selectors.EVENT_READ:
            try:
                data = sock.recv(CHUNK)
            except BlockingIOError:
                data = None
            except OSError:
                self._drop(pipe, reset=False)
                return
            if data == b"":
                # One side finished: pass the end of stream on.
                if from_client:
                    pipe.client_eof = True
                else:
                    pipe.upstream_eof = True
                if not (pipe.to_upstream if from_client else pipe.to_client):
                    with contextlib.suppress(OSError):
                        other.shutdown(socket.SHUT_WR)
            elif data:
                if from_client:
                    pipe.to_upstream += data
                else:
                    self._charge(pipe, data)
        if events & selectors.EVENT_WRITE and not pipe.closed:
            buffer = pipe.to_client if sock is pipe.client else pipe.to_upstream
            try:
                sent = sock.send(buffer)
                del buffer[:sent]
            except BlockingIOError:
                pass
            except OSError:
                self._drop(pipe, reset=False)
                return
            source_done = pipe.upstream_eof if sock is pipe.client else pipe.client_eof
            if source_done and not buffer:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_WR)
        if pipe.closed:
            return
        if pipe.cut_when_flushed and not pipe.to_client:
            self._drop(pipe, reset=False)
        elif (pipe.client_eof and pipe.upstream_eof and not pipe.to_client and not pipe.to_upstream):
            self._drop(pipe, reset=False)
        elif not pipe.closed:
            self._update(pipe)

    def _charge(self, pipe: _Pipe, data: bytes) -> None:
        """Queue server bytes for the client, honouring the byte budget."""
        if pipe.budget is not None:
            if len(data) >= pipe.budget:
                data = data[: pipe.budget]
                pipe.cut_when_flushed = True
            pipe.budget -= len(data)
        pipe.to_client += data
        if pipe.cut_when_flushed and not pipe.to_client:
            self._drop(pipe, reset=False)
        elif not pipe.closed:
            self._update(pipe)

    def _update(self, pipe: _Pipe) -> None:
        """Register each socket for the events it needs now."""
        wants = (
            (pipe.client, pipe.to_client, pipe.to_upstream, pipe.client_eof or pipe.cut_when_flushed),
            (pipe.upstream, pipe.to_upstream, pipe.to_client, pipe.upstream_eof or pipe.cut_when_flushed),
        )
        for sock, outgoing, incoming_backlog, done_reading in wants:
            mask = 0
            if not done_reading and len(incoming_backlog) < MAX_BUFFER:
                mask |= selectors.EVENT_READ
            if outgoing:
                mask |= selectors.EVENT_WRITE
            try:
                key = self._selector.get_key(sock)
            except KeyError:
                if mask:
                    self._selector.register(sock, mask)
                continue
            if not mask:
                self._selector.unregister(sock)
            elif key.events != mask:
                self._selector.modify(sock, mask)

    def _drop(self, pipe: _Pipe, *, reset: bool) -> None:
        if pipe.closed:
            return
        pipe.closed = True
        for sock in pipe.sockets():
            self._pipes.pop(sock, None)
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(sock)
            if reset:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _cut_everything(self, reset: bool) -> None:
        pipes = set(self._pipes.values())
        for pipe in pipes:
            self._drop(pipe, reset=reset)
        if pipes:
            log.debug("proxy on port %d cut %d connections", self.port, len(pipes))
