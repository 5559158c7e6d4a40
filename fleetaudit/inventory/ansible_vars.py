"""Turn the Ansible connection variables of one host into fleetaudit settings.

Only ``ansible_host``, ``ansible_port``, ``ansible_user``, ``ansible_ssh_private_key_file``,
``ansible_become``, ``ansible_connection`` and the ProxyJump in ``ansible_ssh_common_args``
are read; every other variable is ignored.
Values are data: a Jinja template or a vault blob cannot be evaluated here and is refused
with the file, line and variable, and the way to resolve it (``hint``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fleetaudit.errors import InventoryError
from fleetaudit.inventory import validate
from fleetaudit.inventory.ansible_tree import Sourced, Vars
from fleetaudit.inventory.model import TransportKind


class Vaulted:
    """A value encrypted with Ansible Vault (``!vault`` tag or ``__ansible_vault`` in JSON)."""


_TRUE = frozenset({"yes", "true", "1"})
_FALSE = frozenset({"no", "false", "0"})
_SSH_CONNECTIONS = frozenset({"ssh", "smart", "paramiko"})


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {type(value).__name__}")
    return value


def _port(value: object) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ValueError(f"{value!r} is not a port number (1-65535)")
    return value


def _become(value: object) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).lower() if isinstance(value, str | int) else ""
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise ValueError(f"{value!r} is not a boolean (yes/no/true/false/1/0)")


_PROXY_JUMP = re.compile(r"(?:-o\s*ProxyJump[=\s]\s*|-J\s*)([^\s'\"]+)", re.IGNORECASE)


def _jump(value: object) -> str | None:
    """The ProxyJump of ``ansible_ssh_common_args`` (``-J X`` or ``-o ProxyJump=X``)."""
    text = _text(value)
    if "proxycommand" in text.lower():
        raise ValueError("ProxyCommand is not supported (it runs a local command); use ProxyJump")
    found = _PROXY_JUMP.search(text)
    return validate.jump_host(found.group(1)) if found else None


def _transport(value: object) -> TransportKind:
    kind = _text(value)
    if kind == "local":
        return TransportKind.LOCAL
    if kind in _SSH_CONNECTIONS:
        return TransportKind.SSH
    raise ValueError(f"connection {kind!r} is not supported (fleetaudit uses ssh or local)")


CONVERTERS: dict[str, tuple[str, Callable[[object], Any]]] = {
    "ansible_host": ("address", lambda v: validate.host_address(_text(v))),
    "ansible_port": ("port", _port),
    "ansible_user": ("user", lambda v: validate.user_name(_text(v))),
    "ansible_ssh_private_key_file": ("key", lambda v: validate.key_path(_text(v))),
    "ansible_become": ("become", _become),
    "ansible_connection": ("transport", _transport),
    "ansible_ssh_common_args": ("jump", _jump),
}
"""Ansible variable -> (fleetaudit setting, converter raising ValueError)."""


def settings_of(variables: Vars, hint: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The fleetaudit settings of a host's merged variables, and each one's origin."""
    settings: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for var, (setting, convert) in CONVERTERS.items():
        sourced = variables.get(var)
        if sourced is None:
            continue
        refuse_unevaluated(sourced, hint)
        try:
            settings[setting] = convert(sourced.value)
        except ValueError as exc:
            raise _error(sourced, str(exc)) from None
        origins[setting] = sourced.origin
    return settings, origins


def refuse_unevaluated(sourced: Sourced, hint: str) -> None:
    """Refuse a template or a vault-encrypted value: only Ansible can resolve it."""
    value = sourced.value
    if isinstance(value, Vaulted) or (
        isinstance(value, str) and value.lstrip().startswith("$ANSIBLE_VAULT")
    ):
        raise _error(sourced, f"vault-encrypted values cannot be read; {hint}")
    if isinstance(value, str) and ("{{" in value or "{%" in value):
        raise _error(sourced, f"templates ({{{{ ... }}}}) are never evaluated; {hint}")


def _error(sourced: Sourced, message: str) -> InventoryError:
    return InventoryError(message, path=sourced.path, line=sourced.line, key=sourced.key)
