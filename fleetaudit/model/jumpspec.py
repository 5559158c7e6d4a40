"""One jump host (``ProxyJump``) hop, read as OpenSSH reads it: shared by the inventory,
which checks ``jump:`` and Ansible's ``-J`` with it, and the SSH transport."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

_HOST_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_IP_IN_BRACKETS = re.compile(r"[0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]+)?")
_PERCENT_ENCODED = re.compile(r"(?:[^%]|%[0-9A-Fa-f]{2})*")


@dataclass(frozen=True, slots=True)
class JumpSpec:
    """``[user@]host[:port]``, as ProxyJump writes it."""

    address: str
    port: int | None = None
    user: str | None = None

    @classmethod
    def parse(cls, text: str) -> JumpSpec:
        """Read ``[user@]host[:port]`` (IPv6 in brackets) or ``ssh://[user@]host[:port]``
        (the user percent-decoded, its ``;parameters`` dropped), as OpenSSH reads one
        ProxyJump hop; ValueError for what ssh refuses (a port that is no number in
        1-65535, an empty host or user, an IPv6 address without brackets), never a guess.
        An empty port (``host:``) is ssh's default, as ssh takes it."""
        uri = text.startswith("ssh://")
        rest = text[len("ssh://") :].removesuffix("/") if uri else text
        user, at, rest = rest.rpartition("@")
        if uri:
            user = user.partition(";")[0]
            if not _PERCENT_ENCODED.fullmatch(user):
                raise ValueError(f"bad %-encoding in the user of {text!r}")
            user = unquote(user)
        host, port_text = rest, ""
        if rest.startswith("["):
            host, _, tail = rest[1:].partition("]")
            if tail and not tail.startswith(":"):
                raise ValueError(f"text after ']' in {text!r}")
            port_text = tail[1:]
        elif rest.count(":") > 1:
            raise ValueError(f"an IPv6 address needs brackets ([{rest}]) in {text!r}")
        else:
            host, _, port_text = rest.partition(":")
        if not host or (at and not user):
            raise ValueError(f"no host in {text!r}" if not host else f"empty user in {text!r}")
        if not (_IP_IN_BRACKETS if rest.startswith("[") else _HOST_NAME).fullmatch(host):
            raise ValueError(f"bad host name {host!r} in {text!r}")
        return cls(address=host, port=_port(port_text, text), user=user if at else None)

    def __str__(self) -> str:
        return login_label(self.user, self.address, self.port or 22)


def _port(text: str, hop: str) -> int | None:
    """A hop's port as ssh reads it (decimal ASCII digits, an optional ``+``; empty: the
    default); ValueError otherwise."""
    if not text:
        return None
    digits = text.removeprefix("+")
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"bad port {text!r} in {hop!r}")
    if not 1 <= int(digits) <= 65535:
        raise ValueError(f"port {digits} is outside 1-65535 in {hop!r}")
    return int(digits)


def login_label(user: str | None, address: str, port: int) -> str:
    """``[user@]host:port`` as messages name a login, an IPv6 address in brackets."""
    shown = f"[{address}]" if ":" in address else address
    return f"{user + '@' if user else ''}{shown}:{port}"
