"""Refuse a broken ssh_config before connecting anywhere, as OpenSSH refuses it.

asyncssh reads the config inside every ``connect``, and only the blocks that match that
host: a bad line fails every host one by one (``ssh_error``), or none at all when no host of
the run matches its block. OpenSSH checks every line of the file (and of the files it
includes), matching or not, and refuses the whole file. :func:`check_ssh_config` does the
same once per run: every line goes through asyncssh's own option parser, with every
``Host`` and ``Match`` block treated as matching (``Match exec`` commands are never run;
one holding a ``%`` is refused: asyncssh would run it with its tokens unexpanded).

Options neither OpenSSH nor asyncssh knows (a typo such as ``IdentifyFile``) are refused
too, as OpenSSH refuses them, unless an earlier ``IgnoreUnknown`` pattern covers them, the
escape hatch OpenSSH itself offers for options of a newer (or another) ssh.
"""

from __future__ import annotations

import fnmatch
import getpass
import re
import shlex
from pathlib import Path
from typing import Any

from asyncssh.config import ConfigParseError, SSHClientConfig

from fleetaudit.errors import InputError
from fleetaudit.transport.jump import JumpSpec

OPENSSH_OPTIONS = frozenset(
    """
    host match include ignoreunknown addkeystoagent addressfamily batchmode bindaddress
    bindinterface canonicaldomains canonicalizefallbacklocal canonicalizehostname
    canonicalizemaxdots canonicalizepermittedcnames casignaturealgorithms certificatefile
    channeltimeout checkhostip ciphers cipher clearallforwardings compression
    compressionlevel connectionattempts connecttimeout controlmaster controlpath
    controlpersist dynamicforward enableescapecommandline enablesshkeysign escapechar
    exitonforwardfailure fingerprinthash forkafterauthentication forwardagent forwardx11
    forwardx11timeout forwardx11trusted gatewayports globalknownhostsfile
    globalknownhostsfile2 gssapiauthentication gssapidelegatecredentials gssapikeyexchange
    gssapiclientidentity gssapiserveridentity gssapirenewalforcesrekey gssapitrustdns
    gssapikexalgorithms hashknownhosts hostbasedacceptedalgorithms hostbasedacceptedkeytypes
    hostbasedkeytypes hostbasedauthentication hostkeyalgorithms hostkeyalias hostname
    identitiesonly identityagent identityfile identityfile2 ipqos kbdinteractiveauthentication
    kbdinteractivedevices challengeresponseauthentication skeyauthentication
    tisauthentication kexalgorithms knownhostscommand localcommand localforward loglevel
    logverbose macs nohostauthenticationforlocalhost numberofpasswordprompts
    obscurekeystroketiming passwordauthentication permitlocalcommand permitremoteopen
    pkcs11provider smartcarddevice port preferredauthentications protocol proxycommand
    proxyjump proxyusefdpass pubkeyacceptedalgorithms pubkeyacceptedkeytypes
    pubkeyauthentication rekeylimit remotecommand remoteforward requestTTY requiredrsasize
    revokedhostkeys securitykeyprovider sendenv serveralivecountmax serveraliveinterval
    sessiontype setenv stdinnull streamlocalbindmask streamlocalbindunlink
    stricthostkeychecking syslogfacility tag tcpkeepalive keepalive tunnel tunneldevice
    updatehostkeys user userknownhostsfile userknownhostsfile2 verifyhostkeydns
    versionaddendum visualhostkey xauthlocation refuseconnection warnweakcrypto
    rsaauthentication rhostsrsaauthentication rhostsauthentication dsaauthentication
    uselogin useprivilegedport usersh fallbacktorsh useroaming afstokenpassing
    kerberosauthentication kerberostgtpassing compressionlevel
    """.lower().split()
)
"""The keywords of OpenSSH's client config (readconf.c of 9.x and 10.x, deprecated ones
included: OpenSSH accepts those with a warning)."""

_MATCH_CRITERIA = frozenset({"host", "originalhost", "localnetwork", "localuser", "user", "tagged"})
_ERROR = re.compile(r"^(?P<path>.*) line (?P<line>\d+): (?P<reason>.*)$", re.DOTALL)
_KEYWORD = re.compile(r"^\s*([^\s=#]+)")


def check_ssh_config(path: Path) -> None:
    """Raise an :class:`InputError` naming the file and line of the first line of ``path``
    (or of a file it includes) that OpenSSH or asyncssh would refuse."""
    checker = _Checker(None, False, False, False, getpass.getuser(), (), "*", ())
    try:
        checker.parse(path)
    except ConfigParseError as exc:
        found = _ERROR.match(str(exc))
        if found is None:
            raise InputError(f"ssh_config: {exc}", path=path) from None
        reason = found["reason"].rstrip(".")
        raise InputError(
            f"ssh_config: {reason}", path=found["path"], line=int(found["line"])
        ) from None
    except UnicodeDecodeError:
        raise InputError("this ssh_config file is not UTF-8 text", path=checker.reading) from None
    except OSError as exc:
        where = exc.filename or checker.reading
        raise InputError(f"cannot read this ssh_config file: {exc.strerror}", path=where) from None


class _Checker(SSHClientConfig):
    """asyncssh's client config parser with every block matching and no ``Match exec``
    run, plus OpenSSH's refusal of unknown options."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.reading = Path()
        self._ignored: list[str] = []

    def parse(self, path: Path) -> None:
        """Check ``path`` (``Include`` comes back here for every included file)."""
        self.reading = path
        self._check_keywords(path)
        super().parse(path)

    def _check_keywords(self, path: Path) -> None:
        with open(path, encoding="utf-8") as stream:
            for number, line in enumerate(stream, 1):
                found = _KEYWORD.match(line)
                if found is None:
                    continue
                keyword = found[1].lower()
                if keyword == "ignoreunknown":
                    self._ignored += ",".join(_words(line)[1:]).split(",")
                elif keyword not in OPENSSH_OPTIONS and keyword not in self._handlers:
                    if not any(fnmatch.fnmatch(keyword, p.lower()) for p in self._ignored):
                        raise ConfigParseError(
                            f"{path} line {number}: Bad configuration option: {found[1]} "
                            "(OpenSSH refuses it too; list it in an earlier IgnoreUnknown "
                            "if another ssh knows it)"
                        )

    def _host_block(self, option: str, args: list[str]) -> None:
        args.clear()
        self._matching = True

    def _match_block(self, option: str, args: list[str]) -> None:
        """``Match``'s syntax only, as asyncssh checks it: no command runs."""
        while args:
            written = args.pop(0)
            criterion = written.lower().removeprefix("!")
            if criterion in ("all", "canonical", "final"):
                continue
            if criterion not in _MATCH_CRITERIA and criterion != "exec":
                self._error(f"Invalid match condition {criterion}")
            if not args:
                self._error(f"Missing {criterion} match pattern")
            value = args.pop(0)
            if criterion == "exec" and "%" in value:
                self._error(
                    f'Match {written} "{value}" holds a %, which fleetaudit\'s SSH library '
                    "(asyncssh) leaves as written where OpenSSH expands %h, %p... and %%, so "
                    "it would decide wrongly; use --ssh-config with a config without it"
                )
        self._matching = True

    def _proxy_jump(self, option: str, args: list[str]) -> None:
        """Every hop as OpenSSH reads it: a port that is no number, or an empty host, makes
        ssh refuse the file; asyncssh would take the rest of the value as it comes."""
        value = args[0] if args else ""
        if value.lower() != "none":
            for hop in value.split(","):
                try:
                    JumpSpec.parse(hop)
                except ValueError as exc:
                    self._error(f'Invalid ProxyJump "{value}": {exc}')
        SSHClientConfig._set_string(self, option, args)

    _handlers = {
        **SSHClientConfig._handlers,
        "host": ("Host", _host_block),
        "match": ("Match", _match_block),
        "proxyjump": ("ProxyJump", _proxy_jump),
    }


def _words(line: str) -> list[str]:
    """A config line's words; OpenSSH's quoting is close enough to a shell's."""
    try:
        return shlex.split(line.replace("=", " ", 1))
    except ValueError:
        return line.split()
