"""Hostile inventories: any text gives an inventory or an InventoryError, never a crash."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleetaudit.errors import InventoryError
from fleetaudit.inventory import load_inventory

EXAMPLES = int(os.environ.get("FLEETAUDIT_FUZZ_EXAMPLES", "300"))
KEYS = st.sampled_from(
    ["defaults", "hosts", "groups", "vars", "children", "labels", "address", "port", "user",
     "key", "become", "transport", "web1", "db", "{{ x }}", "-oProxyCommand=x", "a;b", ""]
)  # fmt: skip
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.text(max_size=12), KEYS)
TREES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=20,
)


def loads_or_fails_cleanly(text: str, name: str) -> None:
    """``text`` saved as ``name`` loads into safe hosts or fails with an InventoryError that
    names the file; any other exception fails the test."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            inventory = load_inventory(path)
        except InventoryError as exc:
            assert str(exc).startswith(str(path))
            return
        for host in inventory.hosts:
            assert not host.address.startswith("-")
            assert not any(c in host.address for c in " ;$`\n|&")


def _render(value: object) -> str:
    return json.dumps(value)  # JSON is YAML: every generated tree becomes a valid document


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(TREES.map(_render), st.text(max_size=300)))
def test_any_inventory_text_loads_or_fails_cleanly(text: str) -> None:
    loads_or_fails_cleanly(text, "inventory.yaml")


INI_LINES = st.one_of(
    st.sampled_from(
        ["[web]", "[web:children]", "[web:vars]", "[db]", "[db:children]", "[all:vars]",
         "web", "db", "web[01:03]", "h[a:c]:2222", "h ansible_host=192.0.2.1 ansible_port=22",
         "ansible_user=ops", "ansible_become=yes", "h ansible_connection=local",
         "h ansible_user='{{ x }}'", "h x='unterminated", "# comment", "; comment", "[bad group]"]
    ),
    st.text(max_size=40),
)  # fmt: skip
INI_EXAMPLES = int(os.environ.get("FLEETAUDIT_FUZZ_EXAMPLES", "200"))


@settings(max_examples=INI_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.lists(INI_LINES, max_size=12).map("\n".join), st.text(max_size=300)))
def test_any_ini_text_loads_or_fails_cleanly(text: str) -> None:
    loads_or_fails_cleanly(text, "hosts.ini")
