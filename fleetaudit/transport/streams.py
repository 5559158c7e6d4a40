"""Reading a child's output without letting it exhaust memory."""

from __future__ import annotations

from typing import Protocol

_CHUNK = 256 * 1024


class ByteReader(Protocol):
    """What asyncio and asyncssh stream readers have in common."""

    async def read(self, n: int = -1) -> bytes: ...


async def read_capped(stream: ByteReader, cap: int) -> tuple[bytes, bool]:
    """Read ``stream`` to its end, keeping at most ``cap`` bytes; True when it had more.

    Reading stops as soon as the cap is passed: the caller then closes the channel, so a
    host that prints gigabytes costs ``cap`` bytes of memory, not gigabytes.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await stream.read(_CHUNK)
        if not chunk:
            return b"".join(chunks), False
        size += len(chunk)
        if size > cap:
            chunks.append(chunk[: cap - (size - len(chunk))])
            return b"".join(chunks), True
        chunks.append(chunk)
