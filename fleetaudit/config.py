"""Run-wide settings of an audit, as the library and the CLI share them."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fleetaudit.errors import InputError
from fleetaudit.model.enums import HostKeyPolicy


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/fleetaudit`` (``~/.local/state/fleetaudit``): where fleetaudit keeps
    what it learns between runs, such as keys accepted with ``--accept-new``."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "fleetaudit"


def check_readable(path: Path, what: str) -> Path:
    """``path`` if it can be opened for reading, else an :class:`InputError` naming it.

    For files the user named explicitly (``--ssh-config``, ``--known-hosts``): a typo there
    must stop the run before it connects anywhere, not fail every host one by one (a
    missing ssh_config) or quietly trust no host key (a missing known_hosts).
    """
    try:
        with path.expanduser().open("rb"):
            pass
    except OSError as exc:
        raise InputError(f"cannot read this {what} file: {exc.strerror}", path=path) from None
    return path


def check_utf8_text(path: Path, what: str) -> Path:
    """``path`` if it is a readable UTF-8 text file (asyncssh reads ssh_config as UTF-8 and
    would otherwise fail every host with a decoding error), else an :class:`InputError`."""
    check_readable(path, what)
    if not path.expanduser().is_file():
        return path  # /dev/null, or a pipe that reading now would drain or block on
    try:
        path.expanduser().read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        message = f"this {what} file is not UTF-8 text (byte {exc.start + 1} cannot be decoded)"
        raise InputError(message, path=path) from None
    except OSError as exc:  # a directory, or gone since
        raise InputError(f"cannot read this {what} file: {exc.strerror}", path=path) from None
    return path


class AuditConfig(BaseModel):
    """How an audit connects and how long it waits. Defaults are safe for cron.

    ``known_hosts`` and ``ssh_config`` given explicitly must be readable files (checked
    here, before any connection: :func:`check_readable`); the defaults
    (``~/.ssh/known_hosts``, ``~/.ssh/config``) may be missing, as with OpenSSH.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    concurrency: int = Field(default=100, ge=1, le=10_000)
    connect_timeout: float = Field(default=10.0, gt=0)
    """TCP connect, SSH handshake and login together (asyncssh bounds its whole connect)."""
    login_timeout: float = Field(default=20.0, gt=0)
    """asyncssh's own login timer; the connect timeout bounds the login too, so this only
    widens the host deadline, a backstop."""
    command_timeout: float = Field(default=60.0, gt=0)
    known_hosts: tuple[Path, ...] = (Path("~/.ssh/known_hosts").expanduser(),)
    host_key_policy: HostKeyPolicy = HostKeyPolicy.STRICT
    accept_new_file: Path = Field(default_factory=lambda: default_state_dir() / "known_hosts")
    max_output_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    samples: int = Field(default=1, ge=1, le=100)
    """Listings per host, ``interval`` seconds apart: backlog and queue rules then flag only
    what persists in every sample."""
    interval: float = Field(default=5.0, ge=0)
    use_ssh_config: bool = True
    """Read ``~/.ssh/config`` like OpenSSH; off for the self-contained demo and tests."""
    ssh_config: Path | None = None
    """An OpenSSH client config file to read instead of ``~/.ssh/config``."""

    @field_validator("known_hosts")
    @classmethod
    def _known_hosts_readable(cls, paths: tuple[Path, ...]) -> tuple[Path, ...]:
        # Only explicit values reach this (pydantic does not validate defaults), so a
        # missing default ~/.ssh/known_hosts stays fine. InputError is not a ValueError:
        # pydantic lets it through unwrapped, so the CLI shows it as one clear line.
        return tuple(check_readable(path, "known_hosts") for path in paths)

    @field_validator("ssh_config")
    @classmethod
    def _ssh_config_readable(cls, path: Path | None) -> Path | None:
        return None if path is None else check_utf8_text(path, "ssh_config")

    @property
    def host_deadline(self) -> float:
        """A whole host's budget: each phase's timeout, every sample, plus slack."""
        sampling = (self.samples - 1) * (self.interval + self.command_timeout)
        return self.connect_timeout + self.login_timeout + self.command_timeout + sampling + 5.0
