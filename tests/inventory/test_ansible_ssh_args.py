"""The jump host of Ansible's ssh argument variables, read as ssh reads them.

Each accepted form is checked against ``ssh -G`` on this machine (no network: ``-G`` only
prints the configuration ssh would use), so the reader and OpenSSH cannot drift apart.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from fleetaudit.errors import InventoryError
from fleetaudit.inventory import load_inventory
from fleetaudit.transport.jump import JumpSpec
from tests.runcli import fleetaudit

SSH = shutil.which("ssh")
VARIABLES = ("ansible_ssh_args", "ansible_ssh_common_args", "ansible_ssh_extra_args")
"""The order in which Ansible's ssh connection puts these variables' words on ssh's line."""


def ini(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hosts.ini"
    path.write_text(text)
    return path


def ssh_jump(*words: str) -> str | None:
    """The ProxyJump ``ssh -G`` prints for ``words`` (None: it prints none)."""
    assert SSH is not None
    done = subprocess.run(
        [SSH, "-G", "-F", "/dev/null", *words, "target.invalid"],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    lines = [line.split(" ", 1)[1] for line in done.stdout.splitlines()]
    keys = [line.split(" ", 1)[0] for line in done.stdout.splitlines()]
    return lines[keys.index("proxyjump")] if "proxyjump" in keys else None


# (variables as written in an INI host line, jump fleetaudit must resolve)
FORMS = [
    ("ansible_ssh_common_args='-o \"ProxyJump nosuchbastion.invalid\"'", "nosuchbastion.invalid"),
    ("ansible_ssh_extra_args='-J nosuchbastion.invalid'", "nosuchbastion.invalid"),
    ("ansible_ssh_common_args='-o ProxyJump=\"b4\"'", "b4"),
    ("ansible_ssh_common_args='-Jaudit@b5:2222'", "audit@b5:2222"),
    ("ansible_ssh_common_args='-oproxyjump=b6 -o StrictHostKeyChecking=no'", "b6"),
    ("ansible_ssh_common_args='-o \"PROXYJUMP = b7\"'", "b7"),
    ("ansible_ssh_args='-C -o ControlMaster=auto -tt -J b8'", "b8"),
    ("ansible_ssh_common_args='-vv -o ProxyJump=b9'", "b9"),
    # ssh keeps the first ProxyJump; Ansible passes ssh_args, common, then extra args
    ("ansible_ssh_common_args='-J first' ansible_ssh_extra_args='-o ProxyJump=second'", "first"),
    ("ansible_ssh_extra_args='-o ProxyJump=x' ansible_ssh_args='-o ProxyJump=y'", "y"),
    # none: directly, even when a later option or ~/.ssh/config names a jump
    ("ansible_ssh_common_args='-o ProxyJump=none' ansible_ssh_extra_args='-o ProxyJump=b'", "none"),
    ("ansible_ssh_extra_args='-J NONE'", "none"),
    # QA: the URI form ssh accepts was refused ("is not [user@]host[:port]")
    ("ansible_ssh_common_args='-J ssh://root@b10:2200'", "ssh://root@b10:2200"),
]


def _words(variables: str) -> list[str]:
    """The ssh words Ansible builds from ``variables``, in its order."""
    found = dict(token.split("=", 1) for token in shlex.split(variables))
    return [word for var in VARIABLES for word in shlex.split(found.get(var, ""))]


@pytest.mark.parametrize(("variables", "jump"), FORMS)
def test_every_jump_form_ssh_accepts_is_read_as_ssh_reads_it(
    tmp_path: Path, variables: str, jump: str
) -> None:
    path = ini(tmp_path, f"[web]\nh1 ansible_host=127.0.0.1 {variables}\n")
    inventory = load_inventory(path)
    assert inventory.hosts[0].jump == jump
    assert inventory.origins["h1"]["jump"] == f"{path}:2"
    if SSH is not None:  # OpenSSH agrees ("none" is no jump at all; ssh:// is written out)
        seen = ssh_jump(*_words(variables))
        if jump == "none":
            assert seen is None
        else:
            assert seen is not None and JumpSpec.parse(seen) == JumpSpec.parse(jump)


def test_a_host_var_overrides_the_group_var_before_ssh_reads_it(tmp_path: Path) -> None:
    path = ini(
        tmp_path,
        "[web]\nh1\nh2 ansible_ssh_common_args='-o \"ProxyJump other\"'\n"
        "[web:vars]\nansible_ssh_common_args='-o \"ProxyJump bastion\"'\n",
    )
    jumps = {host.name: host.jump for host in load_inventory(path).hosts}
    assert jumps == {"h1": "bastion", "h2": "other"}


def test_yaml_inventory_jump(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yml"
    path.write_text(
        "all:\n  hosts:\n    h1:\n      ansible_ssh_extra_args: -o 'ProxyJump=b1'\n"
        "    h2:\n      ansible_ssh_common_args: \"-o 'ProxyJump b2'\"\n"
    )
    assert [host.jump for host in load_inventory(path).hosts] == ["b1", "b2"]


def test_cli_lists_the_jump_of_the_space_form(tmp_path: Path) -> None:
    path = ini(
        tmp_path,
        "jspace ansible_host=127.0.0.1 "
        "ansible_ssh_common_args='-o \"ProxyJump nosuchbastion.invalid\"'\n",
    )
    empty = tmp_path / "ssh_config"
    empty.write_text("")
    done = fleetaudit("inventory", "list", path, "--format", "json", "--ssh-config", empty)
    assert done.returncode == 0, done.stderr
    assert "nosuchbastion.invalid" in json.dumps(json.loads(done.stdout))


# (variables, text the error must contain, whether ssh itself refuses these words)
REFUSED = [
    ("ansible_ssh_common_args='-o ProxyJump bastion'", "-o ProxyJump=HOST as one word", True),
    ("ansible_ssh_common_args='-o \"ProxyJump a b\"'", "exactly one value", False),
    ("ansible_ssh_common_args='-o ProxyJump='", "exactly one value", True),
    ("ansible_ssh_common_args='-o ProxyJump=a' ansible_ssh_extra_args='-J b'", "single -J", True),
    ("ansible_ssh_common_args='-J a -J b'", "single -J", True),
    ("ansible_ssh_common_args='-o ProxyCommand=\"nc %h %p\"'", "ProxyCommand is not", False),
    ("ansible_ssh_extra_args='-oproxycommand=x'", "ProxyCommand is not supported", False),
    ("ansible_ssh_common_args='-F jump.cfg'", "--ssh-config", False),
    ("ansible_ssh_common_args='bastion'", "not an ssh option", False),
    ("ansible_ssh_common_args='-Z'", "-Z is not an ssh option", True),
    ("ansible_ssh_common_args='-J'", "needs a value", True),
    ("ansible_ssh_args='-J \"b'", "cannot split", False),
    ("ansible_ssh_common_args='-J a,b'", "no ProxyJump chains", False),
    ("ansible_ssh_extra_args='-J -oops'", "[user@]host[:port]", True),
    # where ssh logs in, as whom and with which key: fleetaudit would log in elsewhere
    ("ansible_ssh_common_args='-o Port=22152'", "set ansible_port instead", False),
    ("ansible_ssh_common_args='-o=Port=22462'", "set ansible_port instead", False),
    ("ansible_ssh_common_args='-o =User=bob'", "set ansible_user instead", False),
    ("ansible_ssh_common_args='-p 2223'", "set ansible_port instead", False),
    ("ansible_ssh_extra_args='-l extrauser'", "set ansible_user instead", False),
    ("ansible_ssh_common_args='-o User=argsuser'", "set ansible_user instead", False),
    ("ansible_ssh_common_args='-i /keys/a1'", "set ansible_ssh_private_key_file", False),
    ("ansible_ssh_common_args='-oIdentityFile=/k'", "set ansible_ssh_private_key_file", False),
    ("ansible_ssh_common_args='-J b -o Hostname=10.9.9.9'", "set ansible_host instead", False),
]


@pytest.mark.parametrize(("variables", "fragment", "ssh_refuses"), REFUSED)
def test_what_ssh_would_read_otherwise_is_an_error_at_the_line(
    tmp_path: Path, variables: str, fragment: str, ssh_refuses: bool
) -> None:
    path = ini(tmp_path, f"# fleet\nh1 ansible_host=127.0.0.1 {variables}\n")
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    assert caught.value.line == 2
    assert (caught.value.key or "").startswith("h1.ansible_ssh_")
    assert fragment in caught.value.message
    if SSH is not None and ssh_refuses:
        done = subprocess.run(
            [SSH, "-G", "-F", "/dev/null", *_words(variables), "target.invalid"],
            capture_output=True,
            timeout=10,
            check=False,
        )
        assert done.returncode != 0
