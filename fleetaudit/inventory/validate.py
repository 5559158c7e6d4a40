"""Value checks for inventory fields: nothing that could become an ssh option or a shell
word gets through.

fleetaudit never builds a command line from inventory values, but the values still reach
asyncssh, ``~/.ssh/config`` matching and reports; a host named ``-oProxyCommand=...`` or a
user ``root;reboot`` is a mistake or an attack either way, and is refused with file and line.
Templates and vault blobs are refused too: values are data, never evaluated.
"""

from __future__ import annotations

import ipaddress
import re

from fleetaudit.model.jumpspec import JumpSpec

_HOST = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:%-]*")
_IP_LITERAL = re.compile(r"[0-9A-Fa-f:.]+(?:%[A-Za-z0-9_][A-Za-z0-9_.-]*)?")
"""The characters an IP literal may have: ``ipaddress`` accepts any text as an IPv6
``%scope``, so the scope is held to interface-name characters here."""
_USER_TEXT = r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,255}\$?"
"""Login names as directories give them: POSIX ones, ``john.doe@corp.example`` (SSSD, AD),
``svc$`` (a machine account). Never a leading ``-`` (an option), whitespace, quotes,
``;``, ``$(``, backquotes or backslashes. A final ``$`` is data to fleetaudit, which runs
no ProxyCommand through a shell; OpenSSH's would read ``%r@%h`` as ``svc$@host``."""
_USER = re.compile(_USER_TEXT)
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_LABEL_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_LENGTH = 253


def no_template(value: str) -> str:
    """Refuse Jinja templates and Ansible Vault values, which only Ansible can resolve."""
    if "{{" in value or "{%" in value:
        raise ValueError(
            "templates ({{ ... }}) are not evaluated (ansible-inventory --list does not "
            "render them either); give a literal value"
        )
    if value.lstrip().startswith("$ANSIBLE_VAULT"):
        raise ValueError(
            "vault-encrypted values cannot be read (ansible-inventory --list leaves inline "
            "ones encrypted too); give a literal value"
        )
    return value


def host_address(value: str) -> str:
    """A host name, IPv4 or IPv6 address (optionally ``%scope``).

    Every IP literal is accepted as written, including those that start with ``:``
    (``::1``); ``[::1]``, the bracketed form of URLs and ``ssh -J``, stands for the IPv6
    address inside it, which is what is returned (asyncssh would look the brackets up as a
    name). Brackets around anything else are refused.
    """
    no_template(value)
    if value.startswith("[") and value.endswith("]"):
        inner = value[1:-1]
        if not _is_ip_literal(inner, version=6):
            raise ValueError(f"{value[:60]!r}: brackets may only enclose an IPv6 address")
        return inner
    if _is_ip_literal(value):
        return value
    return _match(_HOST, value, "a host name or IP address")


def _is_ip_literal(value: str, version: int | None = None) -> bool:
    """True when ``value`` is an IP address (of ``version``, when given) in safe characters."""
    if len(value) > MAX_LENGTH or _IP_LITERAL.fullmatch(value) is None:
        return False
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return version is None or address.version == version


def is_this_machine(address: str) -> bool:
    """True for ``localhost`` and the loopback literals ``127.0.0.1`` and ``::1`` however
    they are written (``0:0:0:0:0:0:0:1``): the addresses ``transport: local`` may have."""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address) in _THIS_MACHINE
    except ValueError:
        return False


_THIS_MACHINE = frozenset({ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")})


def user_name(value: str) -> str:
    """A login name (see ``_USER_TEXT``)."""
    return _match(
        _USER, no_template(value), "a login name (letters, digits, _ . - @, and a final $)"
    )


def name(value: str) -> str:
    """An inventory host or group name."""
    return _match(_NAME, no_template(value), "a name of letters, digits, _ . -")


def label_key(value: str) -> str:
    """A label key (``team``, ``app.kubernetes.io/name``)."""
    return _match(_LABEL_KEY, no_template(value), "a label key of letters, digits, _ . / -")


def key_path(value: str) -> str:
    """A private-key file path: no control characters, no leading ``-``."""
    no_template(value)
    if not value or value.startswith("-") or _CONTROL.search(value):
        raise ValueError("must be a file path (no control characters, no leading '-')")
    return value


def label_value(value: str) -> str:
    """A label value: printable text."""
    no_template(value)
    if _CONTROL.search(value) or len(value) > MAX_LENGTH:
        raise ValueError("must be printable text of at most 253 characters")
    return value


def _match(pattern: re.Pattern[str], value: str, what: str) -> str:
    if len(value) > MAX_LENGTH or pattern.fullmatch(value) is None:
        raise ValueError(f"{value[:60]!r} is not {what}")
    return value


def jump_host(value: str) -> str:
    """A ProxyJump target ``[user@]host[:port]`` or ``ssh://[user@]host[:port]``, read as
    ssh reads it (:class:`~fleetaudit.model.jumpspec.JumpSpec`), its user a user name the
    inventory accepts; one hop (a chain is refused)."""
    no_template(value)
    if "," in value:
        raise ValueError("only one jump host is supported (no ProxyJump chains)")
    try:
        hop = JumpSpec.parse(value)
    except ValueError as exc:
        raise ValueError(f"{value[:60]!r} is not [user@]host[:port] or ssh://...: {exc}") from None
    if hop.user is not None:
        user_name(hop.user)
    return value
