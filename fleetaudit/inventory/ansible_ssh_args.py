"""The jump host in Ansible's ssh argument variables, read the way ssh itself reads them.

Ansible's ssh connection splits ``ansible_ssh_args`` (which replaces ansible.cfg's
``ssh_args``), ``ansible_ssh_common_args`` and ``ansible_ssh_extra_args`` with shlex and
passes the words to ssh in that order. ssh reads them as getopt options, so a jump host is
``-J X``, ``-JX``, ``-o ProxyJump=X``, ``-oProxyJump=X`` or ``-o "ProxyJump X"`` (the
keyword in any case). Reading one regex over the text instead dropped jumps such as
``-o "ProxyJump X"`` silently, and a dropped jump means auditing whatever answers at the
address, bypassing the bastion. So the words are walked as ssh walks them, with OpenSSH's
rules (checked against ``ssh -G``):

- the first ProxyJump wins: ``-J a -o ProxyJump=b`` goes through ``a``;
- a ``-J`` after any jump, even ``none``, is fatal in ssh ("Only a single -J option is
  permitted"), and refused here;
- ``none`` (any case) means no jump, overriding a ``ProxyJump`` of ``~/.ssh/config``.

What cannot be read that way is an error, never skipped: ``ProxyCommand`` (it runs a local
command), ``-F`` (another ssh config file, whose ProxyJump fleetaudit would not see), a
ProxyJump without exactly one value, an unknown option letter, and a stray word (ssh would
take it for the host name). So are the options that choose the port, user, machine or key
(``-p``, ``-l``, ``-i``, ``-o Port/User/HostName/IdentityFile``): ssh would log in elsewhere
than fleetaudit, whose clean report would then be of another sshd.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

NO_JUMP = "none"
"""The jump that means "connect directly", as OpenSSH spells it."""

VARIABLES = ("ansible_ssh_args", "ansible_ssh_common_args", "ansible_ssh_extra_args")
"""The variables holding ssh words, in the order Ansible puts them on ssh's command line."""

# OpenSSH 9's getopt string for ssh: flags, and options that take an argument.
_FLAGS = frozenset("1246afgknqstvxACGKMNTVXYy")
_WITH_ARGUMENT = frozenset("bceilmopBDEFIJLOPQRSwW")
# "-o" arguments: keyword, then "=" and/or whitespace, then the value (ssh's strdelim).
_KEYWORD = re.compile(r"\s*([A-Za-z]+)(?:\s*=\s*=?|\s+)(.*)", re.DOTALL)


class JumpReader:
    """The jump host of a sequence of ssh argument strings, fed in command-line order."""

    def __init__(self) -> None:
        self.jump: str | None = None
        """The jump host given so far (``none`` for "directly"), or None if none was."""

    def read(self, text: str) -> bool:
        """Read one variable's text; True if it set the jump. ValueError says what cannot
        be read the way ssh reads it."""
        try:
            words = [word.strip() for word in shlex.split(text) if word.strip()]
        except ValueError as exc:
            raise ValueError(f"cannot split into ssh arguments like Ansible does: {exc}") from None
        unset = self.jump is None
        for letter, argument in _options(words):
            if letter == "J":
                self._dash_j(argument)
            elif letter == "o":
                self._option(argument)
            elif letter == "F":
                raise ValueError(
                    f"-F {argument}: fleetaudit does not read another ssh config file here "
                    "(it may set a ProxyJump); pass it with --ssh-config instead"
                )
            elif letter in _TARGET_LETTERS:
                _refuse_target(f"-{letter} {argument}", _TARGET_LETTERS[letter])
        return unset and self.jump is not None  # once given, the jump never changes

    def _dash_j(self, value: str) -> None:
        if self.jump is not None:
            raise ValueError(
                f"-J {value} comes after the jump {self.jump!r} was already given; ssh refuses "
                "this ('Only a single -J option is permitted'): give one jump host"
            )
        self.jump = _value(value)

    def _option(self, argument: str) -> None:
        # ssh skips what precedes the keyword, an `=` included: `-o=Port=2222` sets Port
        argument = argument.lstrip(" \t=")
        found = _KEYWORD.fullmatch(argument)
        keyword = found.group(1).lower() if found else argument.strip().lower()
        if keyword in _TARGET_KEYWORDS:
            _refuse_target(f"-o {argument!r}", _TARGET_KEYWORDS[keyword])
        if keyword == "proxycommand":
            raise ValueError(
                "ProxyCommand is not supported (it runs a local command); use ProxyJump"
            )
        if "proxyjump" not in argument.lower() and "proxycommand" not in argument.lower():
            return  # an option fleetaudit does not use, and no jump in it
        if keyword != "proxyjump" or found is None:
            raise ValueError(
                f"-o {argument!r}: cannot read this ProxyJump; write -o ProxyJump=HOST as one "
                "word (ssh refuses '-o ProxyJump HOST', which is two)"
            )
        values = found.group(2).split()
        if len(values) != 1:
            raise ValueError(
                f"-o {argument!r}: ProxyJump takes exactly one value, [user@]host[:port]"
            )
        if self.jump is None:  # ssh keeps the first value it is given
            self.jump = _value(values[0])


_TARGET_LETTERS = {"p": "ansible_port", "l": "ansible_user", "i": "ansible_ssh_private_key_file"}
_TARGET_KEYWORDS = {
    "port": "ansible_port",
    "user": "ansible_user",
    "hostname": "ansible_host",
    "identityfile": "ansible_ssh_private_key_file",
}
"""ssh options that choose where ssh logs in, as whom, or with which key, and the variable
fleetaudit reads instead."""


def _refuse_target(given: str, variable: str) -> None:
    """An option that would send ssh to another port, user, machine or key than the one
    fleetaudit would log in to: refused rather than ignored (a clean report of the wrong
    sshd)."""
    raise ValueError(
        f"{given}: fleetaudit does not take the target from ssh arguments (it would log in "
        f"elsewhere than ssh does); set {variable} instead"
    )


def _value(value: str) -> str:
    return NO_JUMP if value.lower() == NO_JUMP else value


def _options(words: list[str]) -> Iterator[tuple[str, str]]:
    """(option letter, argument or "") of ssh command-line ``words``, as getopt reads them:
    flags may be bundled (``-tt``), an argument is the rest of the word or the next word."""
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if not word.startswith("-") or word in ("-", "--"):
            raise ValueError(
                f"{word!r} is not an ssh option (ssh would take it for the host name); "
                "quote an option's value together with it"
            )
        for position in range(1, len(word)):
            letter = word[position]
            if letter in _FLAGS:
                yield letter, ""
                continue
            if letter not in _WITH_ARGUMENT:
                raise ValueError(f"{word!r}: -{letter} is not an ssh option")
            argument = word[position + 1 :]
            if not argument:
                if index == len(words):
                    raise ValueError(f"{word!r}: ssh option -{letter} needs a value")
                argument = words[index]
                index += 1
            yield letter, argument
            break
