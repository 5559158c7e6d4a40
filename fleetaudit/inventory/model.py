"""Resolved inventory: the hosts to audit, each with everything needed to reach it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from fleetaudit.errors import InventoryError


class TransportKind(StrEnum):
    """How fleetaudit reaches a host."""

    SSH = "ssh"
    LOCAL = "local"
    """This machine, without SSH (``transport: local``)."""


class Host(BaseModel):
    """One host to audit, with its connection settings fully resolved.

    ``name`` is the inventory's name for the host (what reports show); ``address`` is what
    fleetaudit connects to. ``None`` for port/user/key/jump means "as ~/.ssh/config or the
    SSH defaults say" (port 22, the local user name, the default identities and the agent).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    address: str
    port: int | None = Field(default=None, ge=1, le=65535)
    user: str | None = None
    key: str | None = None
    jump: str | None = None
    """A jump host ``[user@]host[:port]`` (ProxyJump) to reach this host through; ``none``
    (OpenSSH's word) means directly, even if ssh_config names a ProxyJump for the host."""
    become: bool = False
    transport: TransportKind = TransportKind.SSH
    groups: tuple[str, ...] = ()
    labels: dict[str, str] = Field(default_factory=dict)
    source_line: int | None = None
    """Line of the host's entry in the inventory file, for error messages."""


class RefusedHost(BaseModel):
    """A host the inventory names but fleetaudit cannot reach as written (an unsupported
    connection, become to a user other than root, a template or vault value in a setting):
    an error when a run selects it, so that ``--limit`` can leave it out."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    groups: tuple[str, ...] = ()
    message: str
    path: str | None = None
    line: int | None = None
    column: int | None = None
    key: str | None = None

    def error(self, hint: str = "") -> InventoryError:
        """Why the host cannot be audited, as the error its setting gave, and ``hint``."""
        message = self.message + hint
        return InventoryError(
            message, path=self.path, line=self.line, column=self.column, key=self.key
        )


class Inventory(BaseModel):
    """A resolved inventory: hosts in file order, names unique."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    hosts: tuple[Host, ...]
    groups: frozenset[str] = frozenset()
    """Every group the inventory defines, those without hosts too (``--limit`` matches group
    names first, as Ansible does); besides the groups its hosts name."""
    refused: tuple[RefusedHost, ...] = ()
    """Hosts that cannot be audited as written, in file order (see :class:`RefusedHost`)."""
    variables_everywhere: frozenset[str] = frozenset()
    """The Ansible variables every host has (by any level of the inventory): settings of
    ansible.cfg that these override cannot matter."""
    notes: tuple[str, ...] = ()
    """Warnings for the user about how the inventory was read (login settings Ansible
    would take from elsewhere: :mod:`fleetaudit.inventory.ansible_cfg`)."""
    origins: dict[str, dict[str, str]] = Field(default_factory=dict)
    """Host name -> setting -> where its value came from: ``prod.ini:12``,
    ``group_vars/db.yml:3``, ``host name`` (the address defaults to it) or ``default``."""
