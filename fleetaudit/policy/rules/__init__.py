"""Policy rule kinds: one module per ``kind:``, each a :class:`Rule` subclass.

``RULE_KINDS`` is the static registry from the ``kind:`` string in a policy file to the
class that validates and checks it.
"""

from __future__ import annotations

from fleetaudit.policy.rules.allowlist import AllowlistRule
from fleetaudit.policy.rules.backlog import BacklogRule
from fleetaudit.policy.rules.bind_scope import BindScopeRule
from fleetaudit.policy.rules.coverage import CoverageRule
from fleetaudit.policy.rules.forbidden import ForbiddenRule
from fleetaudit.policy.rules.interface import Rule
from fleetaudit.policy.rules.queue import QueueRule
from fleetaudit.policy.rules.state_count import StateCountRule

RULE_KINDS: dict[str, type[Rule]] = {
    "bind-scope": BindScopeRule,
    "allowlist": AllowlistRule,
    "backlog": BacklogRule,
    "queue": QueueRule,
    "forbidden": ForbiddenRule,
    "coverage": CoverageRule,
    "state-count": StateCountRule,
}

__all__ = [
    "RULE_KINDS",
    "AllowlistRule",
    "BacklogRule",
    "BindScopeRule",
    "CoverageRule",
    "ForbiddenRule",
    "QueueRule",
    "Rule",
    "StateCountRule",
]
