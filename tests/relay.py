"""A TCP relay on loopback whose existing connections can be frozen: what a stateful
firewall or NAT does when it forgets a connection (a failover, a full state table). The
relay stops passing that connection's bytes, in both directions, and closes nothing, so
neither end learns anything; connections made afterwards pass as before."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

_IDLE_S = 0.2
"""How often a frozen or idle pump looks whether the relay is closing."""


class FreezingRelay:
    """Relays ``127.0.0.1:port`` to ``127.0.0.1:target`` until closed. With ``freeze_idle``,
    the connections made so far are frozen, once, when no byte passed for that long (for a
    run in another thread or process, whose pauses the test cannot call into)."""

    def __init__(self, target: int, freeze_idle: float | None = None) -> None:
        self._target = target
        self._freeze_idle = freeze_idle
        self._last_byte: float | None = None
        self.frozen_at: float | None = None
        """When the connections were frozen (``time.monotonic``), if they were."""
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(_IDLE_S)
        self.port: int = self._listener.getsockname()[1]
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._frozen: list[threading.Event] = []
        self._sockets: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()
        if freeze_idle is not None:
            watcher = threading.Thread(target=self._freeze_when_idle, daemon=True)
            self._watcher: threading.Thread | None = watcher
            watcher.start()
        else:
            self._watcher = None

    def freeze(self) -> int:
        """Stop passing the bytes of every connection made so far; how many there were."""
        with self._lock:
            for flag in self._frozen:
                flag.set()
            self.frozen_at = time.monotonic()
            return len(self._frozen)

    def _freeze_when_idle(self) -> None:
        assert self._freeze_idle is not None
        while not self._closing.wait(_IDLE_S / 4):
            last = self._last_byte
            if last is not None and time.monotonic() - last >= self._freeze_idle:
                self.freeze()
                return

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self._target), timeout=5)
            frozen = threading.Event()
            pumps = [
                threading.Thread(target=self._pump, args=(a, b, frozen), daemon=True)
                for a, b in ((client, server), (server, client))
            ]
            with self._lock:
                self._frozen.append(frozen)
                self._sockets += [client, server]
                self._threads += pumps
            for pump in pumps:
                pump.start()

    def _pump(self, source: socket.socket, sink: socket.socket, frozen: threading.Event) -> None:
        source.settimeout(_IDLE_S)
        while not self._closing.is_set():
            if frozen.is_set():
                self._closing.wait(_IDLE_S)  # hold the bytes: read nothing, close nothing
                continue
            try:
                data = source.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                try:
                    sink.shutdown(socket.SHUT_WR)  # pass the end of the stream on
                except OSError:
                    pass
                return
            if frozen.is_set():
                continue  # arrived as the freeze began: dropped, as the firewall drops it
            try:
                sink.sendall(data)
            except OSError:
                return
            self._last_byte = time.monotonic()

    def close(self) -> None:
        self._closing.set()
        self._listener.close()
        self._threads[0].join(timeout=5)  # no connection is accepted after this
        if self._watcher is not None:
            self._watcher.join(timeout=5)
        for thread in self._threads[1:]:
            thread.join(timeout=5)
        for sock in self._sockets:
            sock.close()

    def __enter__(self) -> FreezingRelay:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
