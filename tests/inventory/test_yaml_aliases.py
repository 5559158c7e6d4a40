"""YAML aliases of aliases (a "billion laughs") are refused before anything expands them:
a 1 kB inventory took minutes and gigabytes, a policy 17 s and 1.8 GB (QA); aliases
as people use them (`<<: *defaults`, one vars mapping shared by many hosts) still load."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.runcli import fleetaudit

LEVELS = "abcdefghi"


def laughs(top_key: str, prefix: str = "") -> str:
    """Nine levels of nine aliases each: 9**9 values from a few dozen written."""
    lines = [
        f'{prefix}{LEVELS[0]}: &{LEVELS[0]} ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
    ]
    for below, level in zip(LEVELS, LEVELS[1:], strict=False):
        lines.append(f"{prefix}{level}: &{level} [{','.join([f'*{below}'] * 9)}]")
    lines.append(f"{top_key}: *{LEVELS[-1]}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("command", "text", "line"),
    [
        (("inventory", "check"), laughs("hosts"), 10),  # the key that uses the last alias
        (("policy", "lint"), "version: 1\n" + laughs("rules"), 11),
    ],
)
def test_a_billion_laughs_is_refused_at_its_line(
    tmp_path: Path, command: tuple[str, ...], text: str, line: int
) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    done = fleetaudit(*command, path, timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"bomb.yaml:{line}:1: invalid YAML: aliases expand this document to " in done.stderr
    assert '(a "billion laughs"?)' in done.stderr


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("hosts: &h\n  web1: {address: 127.0.0.1, loop: *h}\n")
    done = fleetaudit("inventory", "check", path, timeout=60)
    assert done.returncode == 2
    assert "loop.yaml:1: invalid YAML: an alias inside its own anchor" in done.stderr


def test_aliases_as_inventories_use_them_still_load(tmp_path: Path) -> None:
    native = tmp_path / "native.yaml"
    native.write_text(
        "defaults: &d {user: audit, port: 22}\nhosts:\n"
        + "".join(f"  h{i}: {{<<: *d, address: 127.0.0.{i % 250 + 1}}}\n" for i in range(3000))
    )
    ansible = tmp_path / "ansible.yaml"
    ansible.write_text(
        "all:\n  vars: &v {ansible_user: audit}\n  children:\n    web:\n      hosts:\n"
        + "".join(f"        w{i}: *v\n" for i in range(3000))
    )
    shared = tmp_path / "shared.yaml"  # 80 groups of one anchored list of 400 hosts (QA)
    shared.write_text(
        "all:\n  children:\n    g0:\n      hosts: &every\n"
        + "".join(f"        h{i}: {{ansible_host: 127.0.0.1}}\n" for i in range(400))
        + "".join(f"    g{g}:\n      hosts: *every\n" for g in range(1, 80))
    )
    cases = ((native, "3000 hosts"), (ansible, "3000 hosts"), (shared, "400 hosts, 80 groups"))
    for path, hosts in cases:
        done = fleetaudit("inventory", "check", path, timeout=120)
        assert done.returncode == 0, done.stderr
        assert hosts in done.stderr + done.stdout


@pytest.mark.parametrize(
    ("text", "place", "said"),
    [
        ("hosts:\n  a1: !vault |\n    $ANSIBLE_VAULT;1.1;AES256\n", ":2:7:",
         "tag '!vault' (an Ansible vault value: make the inventory with `ansible-inventory"),
        ("hosts:\n  a1: !!python/object/apply:os.system [id]\n", ":2:7:",
         "(tags are not read: write the plain value)"),
        ("hosts:\n  a1:\n    <<: 5\n", ":3:9:",
         "expected a mapping or list of mappings for merging, but found scalar"),
        ("hosts:\n  a1: {}\n---\nhosts:\n  a2: {}\n", ":3:1:",
         "expected a single document in the stream, but found another document"),
    ],
)  # fmt: skip
def test_yaml_the_loader_cannot_build_is_placed_and_said_in_words(
    tmp_path: Path, text: str, place: str, said: str
) -> None:
    """QA: these errors had no line, and quoted PyYAML's own marks (`in "<unicode
    string>", line 2`) with `\\x0a` for each newline, or half a sentence."""
    path = tmp_path / "inv.yaml"
    path.write_text(text)
    done = fleetaudit("inventory", "check", path, timeout=60)
    assert done.returncode == 2
    assert f"inv.yaml{place} invalid YAML: " in done.stderr and said in done.stderr, done.stderr
    assert "unicode string" not in done.stderr and "\\x0a" not in done.stderr


def test_a_value_that_is_not_what_its_tag_says_is_an_error_not_a_crash(tmp_path: Path) -> None:
    """QA: `port: !!int "abc"` was an internal error (a bug report hint, no line)."""
    path = tmp_path / "inv.yaml"
    path.write_text('hosts:\n  h1: {address: 127.0.0.1, port: !!int "abc"}\n')
    policy = tmp_path / "p.yaml"
    policy.write_text(
        'version: 1\nrules:\n  - {id: a, kind: forbidden, match: {port: !!int "x"}}\n'
    )
    for command, file, line in ((("inventory", "check"), path, 2), (("policy", "lint"), policy, 3)):
        done = fleetaudit(*command, file, timeout=60)
        assert done.returncode == 2
        assert f"{file.name}:{line}: invalid YAML: a value is not what its tag says" in done.stderr
        assert "internal error" not in done.stderr


def test_a_document_nested_deep_is_judged_without_recursion(tmp_path: Path) -> None:
    """Counting the expansion recursively crashed (an internal error) on a list nested
    900 deep, which is valid YAML and an ordinary error here."""
    path = tmp_path / "deep.yaml"
    path.write_text("hosts: " + "[" * 900 + "]" * 900 + "\n")
    done = fleetaudit("inventory", "check", path, timeout=60)
    assert done.returncode == 2
    assert "deep.yaml:1:1: hosts: Input should be a valid dictionary" in done.stderr
    assert "internal error" not in done.stderr
