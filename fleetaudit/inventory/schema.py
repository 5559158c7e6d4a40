"""The native inventory file format, as pydantic models (validation only, no resolution)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
)

from fleetaudit.inventory import validate
from fleetaudit.inventory.model import TransportKind

Address = Annotated[str, AfterValidator(validate.host_address)]
User = Annotated[str, AfterValidator(validate.user_name)]
Name = Annotated[str, AfterValidator(validate.name)]
KeyPath = Annotated[str, AfterValidator(validate.key_path)]
JumpHost = Annotated[str, AfterValidator(validate.jump_host)]
LabelKey = Annotated[str, AfterValidator(validate.label_key)]
LabelValue = Annotated[str, AfterValidator(validate.label_value)]
Port = Annotated[StrictInt, Field(ge=1, le=65535)]


def _one_or_more(value: Any) -> Any:
    """One name where a list of names is allowed (``groups: web`` means ``[web]``), as the
    policy allows it: it was refused as "Input should be a valid tuple"."""
    return (value,) if isinstance(value, str) else value


Names = Annotated[tuple[Name, ...], BeforeValidator(_one_or_more)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HostVars(_Strict):
    """Connection settings; any level (defaults, group vars, host) may set them."""

    address: Address | None = None
    port: Port | None = None
    user: User | None = None
    key: KeyPath | None = None
    jump: JumpHost | None = None
    become: StrictBool | None = None
    transport: TransportKind | None = None


class HostEntry(HostVars):
    """A host under ``hosts:``: its settings plus membership and labels."""

    groups: Names = ()
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)


class GroupEntry(_Strict):
    """A group: member hosts (a list, or a mapping to per-host settings), vars applied to
    every member, labels, and child groups whose hosts are members too."""

    hosts: tuple[Name, ...] | dict[Name, HostVars | None] = ()
    vars: HostVars = HostVars()
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    children: Names = ()


class InventoryFile(_Strict):
    """The whole file."""

    defaults: HostVars = HostVars()
    hosts: dict[Name, HostEntry | None] = Field(default_factory=dict)
    groups: dict[Name, GroupEntry | None] = Field(default_factory=dict)
