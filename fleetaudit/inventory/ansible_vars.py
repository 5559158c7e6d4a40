"""Turn the Ansible connection variables of one host into fleetaudit settings.

Only ``ansible_host``, ``ansible_port``, ``ansible_user``, ``ansible_ssh_private_key_file``
(and their other spellings ``ansible_ssh_host``, ``ansible_ssh_port``, ``ansible_ssh_user``,
``ansible_private_key_file``), ``ansible_become``, ``ansible_connection`` and the jump host
in ``ansible_ssh_args``,
``ansible_ssh_common_args`` and ``ansible_ssh_extra_args`` (read as ssh reads them, see
:mod:`.ansible_ssh_args`) are read, and, with become on, ``ansible_become_user`` and
``ansible_become_method`` are checked to be root and sudo (the only way fleetaudit
becomes); every other variable is ignored.
Values are data: a Jinja template or a vault blob cannot be evaluated here and is refused
with the file, line and variable, and the way to resolve it (``hint``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fleetaudit.errors import InventoryError
from fleetaudit.inventory import validate
from fleetaudit.inventory.ansible_ssh_args import NO_JUMP, VARIABLES, JumpReader
from fleetaudit.inventory.ansible_tree import Sourced, Vars
from fleetaudit.inventory.model import TransportKind


class Vaulted:
    """A value encrypted with Ansible Vault (``!vault`` tag or ``__ansible_vault`` in JSON)."""


# Ansible's booleans (module_utils.parsing.convert_bool), compared lower-cased.
_TRUE = frozenset({"y", "yes", "on", "1", "true", "t"})
_FALSE = frozenset({"n", "no", "off", "0", "false", "f"})
_SSH_CONNECTIONS = frozenset({"ssh", "smart", "paramiko", "paramiko_ssh"})
# Connection plugins may be named by their collection: ansible.builtin.ssh is ssh.
_PLUGIN_PREFIXES = ("ansible.builtin.", "ansible.legacy.")


def _text(value: object) -> str:
    """A text value; an integer is its digits, as Ansible takes ``ansible_user: 1234``.
    Other values are refused: Ansible would make ``yes`` the text ``True`` and ``10.10``
    the text ``10.1``."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    read = {bool: "a boolean", float: "a number", type(None): "null"}.get(type(value))
    hint = f": the unquoted value was read as {read}; quote it" if read else ""
    raise ValueError(f"must be a string, not {type(value).__name__}{hint}")


def _port(value: object) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 5:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        shown = repr(value)
        shown = shown if len(shown) <= 40 else f"{shown[:37]}..."
        raise ValueError(f"{shown} is not a port number (1-65535)")
    return value


def _become(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    word = value.strip().lower() if isinstance(value, str) else ""
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise ValueError(f"{value!r} is not a boolean (yes/no, on/off, true/false, 1/0)")


def _transport(value: object) -> TransportKind:
    kind = _text(value)
    for prefix in _PLUGIN_PREFIXES:
        kind = kind.removeprefix(prefix)
    if kind == "local":
        return TransportKind.LOCAL
    if kind in _SSH_CONNECTIONS:
        return TransportKind.SSH
    raise ValueError(f"connection {kind!r} is not supported (fleetaudit uses ssh or local)")


CONVERTERS: dict[str, tuple[tuple[str, ...], Callable[[object], Any]]] = {
    "address": (("ansible_host", "ansible_ssh_host"), lambda v: validate.host_address(_text(v))),
    "port": (("ansible_port", "ansible_ssh_port"), _port),
    "user": (("ansible_user", "ansible_ssh_user"), lambda v: validate.user_name(_text(v))),
    "key": (
        ("ansible_private_key_file", "ansible_ssh_private_key_file"),
        lambda v: validate.key_path(_text(v)),
    ),
    "become": (("ansible_become",), _become),
    "transport": (("ansible_connection",), _transport),
}
"""fleetaudit setting -> (the Ansible variables that give it, converter raising ValueError).
Of several variables, the last one set wins, at whatever level it was set: Ansible's ssh
connection plugin lists ``ansible_ssh_port`` after ``ansible_port``, so a group's legacy
``ansible_ssh_port`` beats a host's ``ansible_port`` (it reached another sshd than the one
``ansible_port`` names)."""


def settings_of(variables: Vars, hint: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The fleetaudit settings of a host's merged variables, and each one's origin."""
    settings: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for setting, (names, convert) in CONVERTERS.items():
        # the last one set wins; a null value unsets a variable, as in Ansible
        given = (variables.get(name) for name in reversed(names))
        sourced = next((v for v in given if v is not None and v.value is not None), None)
        if sourced is None:
            continue  # unset: the default applies
        refuse_unevaluated(sourced, hint)
        try:
            settings[setting] = convert(sourced.value)
        except ValueError as exc:
            raise _error(sourced, str(exc)) from None
        origins[setting] = sourced.origin
    jump = _jump(variables, hint)
    if jump is not None:
        settings["jump"], origins["jump"] = jump
    if settings.get("become"):
        _refuse_other_become(variables, hint)
    return settings, origins


_BECOME_AS = {"ansible_become_user": "root", "ansible_become_method": "sudo"}
"""What fleetaudit's become is: root, through ``sudo -n``. Another user or method, which
Ansible would honour, is refused rather than ignored: the audit would say root while
escalating otherwise than the inventory asks (only with become on: off, they do nothing)."""


def _refuse_other_become(variables: Vars, hint: str) -> None:
    """Refuse, at its file and line, a become user other than root or a method other than
    sudo (``ansible.builtin.sudo`` included)."""
    for var, supported in _BECOME_AS.items():
        sourced = variables.get(var)
        if sourced is None or sourced.value is None:
            continue  # unset; a null value unsets it too, as in Ansible (the default applies)
        refuse_unevaluated(sourced, hint)
        value = sourced.value
        if isinstance(value, str):
            for prefix in _PLUGIN_PREFIXES:  # ansible.builtin.sudo is sudo
                value = value.removeprefix(prefix)
        if value != supported:
            raise _error(
                sourced,
                f"{value!r} is not supported: fleetaudit becomes root through `sudo -n` only "
                f"(remove {var}, or set it to {supported})",
            )


def _jump(variables: Vars, hint: str) -> tuple[str, str] | None:
    """The jump host ssh would use given the host's ssh argument variables, and the origin
    of the variable that gave it; None when they give none."""
    reader = JumpReader()
    found: tuple[str, str] | None = None
    for var in VARIABLES:
        sourced = variables.get(var)
        if sourced is None or sourced.value is None:
            continue  # unset; a null value unsets it too, as in Ansible (the default applies)
        refuse_unevaluated(sourced, hint)
        try:
            if reader.read(_text(sourced.value)) and reader.jump is not None:
                jump = reader.jump
                found = (jump if jump == NO_JUMP else validate.jump_host(jump), sourced.origin)
        except ValueError as exc:
            raise _error(sourced, str(exc)) from None
    return found


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
