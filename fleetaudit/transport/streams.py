"""Reading a child's output without letting it exhaust memory."""

from __future__ import annotations

from typing import Protocol

_CHUNK = 256 * 1024


class ByteReader(Protocol):
    """What asyncio and asyncssh stream readers have in common."""

    async def read(self, n: int = -1) -> bytes: ...


class ByteCount:
    """How many bytes a read has taken so far: a read that times out can then say whether
    anything had arrived (a hung command or dead link) or the data was still coming (a
    slow link, or a longer listing than the timeout allows)."""

    __slots__ = ("total",)

    def __init__(self) -> None:
        self.total = 0


async def read_capped(
    stream: ByteReader, cap: int, count: ByteCount | None = None
) -> tuple[bytes, bool]:
    """Read ``stream`` to its end, keeping at most ``cap`` bytes; True when it had more.
    ``count``, when given, follows the bytes read as they arrive.

    Reading stops as soon as the cap is passed: the caller then closes the channel, so a
    host that prints gigabytes costs ``cap`` bytes of memory, not gigabytes. For stdout
    only: a stream the caller does not close when reading stops must use
    :func:`read_tail`.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await stream.read(_CHUNK)
        if not chunk:
            return b"".join(chunks), False
        size += len(chunk)
        if count is not None:
            count.total = size
        if size > cap:
            chunks.append(chunk[: cap - (size - len(chunk))])
            return b"".join(chunks), True
        chunks.append(chunk)


async def read_tail(stream: ByteReader, cap: int) -> tuple[bytes, bool]:
    """Read ``stream`` to its end, keeping its last ``cap`` bytes; True when it had more.

    For stderr, read beside stdout: it must be drained to its end, because a remote (or a
    child) that cannot write stderr any more blocks and never finishes stdout either. The
    tail is kept because its last line is the one that explains a failure.
    """
    tail = bytearray()
    dropped = False
    while True:
        chunk = await stream.read(_CHUNK)
        if not chunk:
            return bytes(tail), dropped
        tail += chunk
        if len(tail) > cap:
            del tail[: len(tail) - cap]
            dropped = True
