"""Host selectors: which hosts a rule applies to.

A ``select:`` block on a rule::

    select:
      hosts: ["db*", "legacy-??"]     # shell globs on the inventory name
      groups: [db, cache]             # member of any of these inventory groups
      labels: {env: prod}             # every label given must be equal
      not: {groups: [lab]}            # and must NOT match this nested selector

Every key given must hold (AND); a list means any of its items (OR); a missing ``select:``
(or an empty one) selects every host. The engine reads groups and labels from the snapshot,
which copies them from the inventory, so a policy can be judged without the inventory.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from fleetaudit.model.host import HostSnapshot
from fleetaudit.policy.matchers import as_tuple

StrTuple = Annotated[tuple[str, ...], BeforeValidator(as_tuple)]


class HostSelector(BaseModel):
    """Conditions on a host's name, groups and labels."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    hosts: StrTuple | None = None
    groups: StrTuple | None = None
    labels: dict[str, str] | None = None
    not_: HostSelector | None = Field(default=None, alias="not")

    def selects(self, snapshot: HostSnapshot) -> bool:
        """True when the host satisfies every condition given."""
        return (
            (self.hosts is None or any(fnmatchcase(snapshot.host, g) for g in self.hosts))
            and (self.groups is None or any(g in snapshot.groups for g in self.groups))
            and (self.labels is None or _labels_match(self.labels, snapshot.labels))
            and (self.not_ is None or not self.not_.selects(snapshot))
        )


def _labels_match(wanted: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in wanted.items())
