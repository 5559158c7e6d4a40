"""Login settings Ansible takes from ``ansible.cfg`` and ``ANSIBLE_*`` variables, which
fleetaudit does not apply: named, so that nobody audits with another user, key or jump
host than Ansible logs in with and learns it only from a night of ``auth_failed``.

Ansible applies them to every host whose inventory does not set the variable itself:
``remote_user`` for ``ansible_user``, ``private_key_file``, ``remote_port``, ``become``, and
the ssh plugin's ``ssh_args``/``ssh_common_args``/``ssh_extra_args`` (where a jump host
usually lives). fleetaudit reads the inventory alone (its SSH side follows
``~/.ssh/config``). The file is found as Ansible finds it: ``$ANSIBLE_CONFIG``, then
``ansible.cfg`` in the current directory (not in a world-writable one, which Ansible
ignores), ``~/.ansible.cfg``, ``/etc/ansible/ansible.cfg``; the first that exists is read.
"""

from __future__ import annotations

import configparser
import os
import stat
from collections.abc import Collection, Mapping
from pathlib import Path

_FILE_SETTINGS = (
    ("defaults", "remote_user", "ansible_user"),
    ("defaults", "private_key_file", "ansible_ssh_private_key_file"),
    ("defaults", "remote_port", "ansible_port"),
    ("privilege_escalation", "become", "ansible_become"),
    ("ssh_connection", "ssh_args", "ansible_ssh_args"),
    ("ssh_connection", "ssh_common_args", "ansible_ssh_common_args"),
    ("ssh_connection", "ssh_extra_args", "ansible_ssh_extra_args"),
)
"""(section, option, the inventory variable that overrides it)."""

_ENV_SETTINGS = (
    ("ANSIBLE_REMOTE_USER", "ansible_user"),
    ("ANSIBLE_PRIVATE_KEY_FILE", "ansible_ssh_private_key_file"),
    ("ANSIBLE_REMOTE_PORT", "ansible_port"),
    ("ANSIBLE_BECOME", "ansible_become"),
    ("ANSIBLE_SSH_ARGS", "ansible_ssh_args"),
    ("ANSIBLE_SSH_COMMON_ARGS", "ansible_ssh_common_args"),
    ("ANSIBLE_SSH_EXTRA_ARGS", "ansible_ssh_extra_args"),
)


_SPELLINGS = {
    "ansible_user": ("ansible_user", "ansible_ssh_user"),
    "ansible_ssh_private_key_file": ("ansible_ssh_private_key_file", "ansible_private_key_file"),
    "ansible_port": ("ansible_port", "ansible_ssh_port"),
}
"""The inventory variables that override a setting, where it has more than one spelling."""

_FALSE = frozenset({"false", "no", "off", "0", "n", "f"})


def unapplied_settings(
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    home: Path | None = None,
    covered: Collection[str] = (),
) -> list[str]:
    """A warning for each place that sets a login setting fleetaudit does not apply, and
    that matters: not where every host sets the inventory variable that overrides it
    (``covered``), nor for ``become`` off (Ansible's default)."""
    env = os.environ if env is None else env

    def matters(variable: str, value: str) -> bool:
        if variable == "ansible_become" and value.strip().lower() in _FALSE:
            return False
        return not set(_SPELLINGS.get(variable, (variable,))) & set(covered)

    notes = []
    found = [
        (name, var) for name, var in _ENV_SETTINGS if env.get(name) and matters(var, env[name])
    ]
    if found:
        names = ", ".join(name for name, _ in found)
        notes.append(_note(f"the environment sets {names}", [var for _, var in found]))
    path = config_file(env, cwd or Path.cwd(), home or Path.home())
    if path is not None:
        set_there = [entry for entry in _set_in(path) if matters(entry[2], entry[3])]
        if set_there:
            options = ", ".join(f"{option} ([{section}])" for section, option, _, _ in set_there)
            notes.append(_note(f"{path} sets {options}", [v for _, _, v, _ in set_there]))
    return notes


def config_file(env: Mapping[str, str], cwd: Path, home: Path) -> Path | None:
    """The ansible.cfg Ansible would read, if any."""
    candidates = []
    if given := env.get("ANSIBLE_CONFIG"):
        chosen = Path(given).expanduser()
        candidates.append(chosen / "ansible.cfg" if chosen.is_dir() else chosen)
    if not _world_writable(cwd):
        candidates.append(cwd / "ansible.cfg")
    candidates += [home / ".ansible.cfg", Path("/etc/ansible/ansible.cfg")]
    return next((path for path in candidates if path.is_file()), None)


def _set_in(path: Path) -> list[tuple[str, str, str, str]]:
    """``(section, option, variable, value)`` of each login setting ``path`` gives."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read(path, encoding="utf-8")
    except (OSError, UnicodeDecodeError, configparser.Error):
        return []  # Ansible would refuse the file too; nothing fleetaudit can name from it
    found = [
        (section, option, variable, parser.get(section, option, fallback="").strip())
        for section, option, variable in _FILE_SETTINGS
    ]
    return [entry for entry in found if entry[3]]


def _note(where: str, variables: list[str]) -> str:
    return (
        f"{where}, which Ansible applies to hosts whose inventory does not set "
        f"{', '.join(dict.fromkeys(variables))}; fleetaudit reads the inventory alone: set "
        "them there (all:vars) or in ~/.ssh/config"
    )


def _world_writable(directory: Path) -> bool:
    try:
        return bool(directory.stat().st_mode & stat.S_IWOTH)
    except OSError:
        return False
