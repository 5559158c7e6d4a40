"""Socket matchers: ports, process names and regexes, enums, not, owner-unknown honesty."""

from dataclasses import replace

import pytest

from fleetaudit.model import Family, Proto, SocketState
from fleetaudit.policy.matchers import SocketMatch
from tests.factories import sock
from tests.policy.builders import unknown_owner


def match(**keys: object) -> SocketMatch:
    return SocketMatch.model_validate(keys)


@pytest.mark.parametrize(
    ("spec", "port", "expected"),
    [
        (22, 22, True),
        (22, 23, False),
        ([22, "80"], 80, True),
        ("6000-6063", 6063, True),
        ("6000-6063", 5999, False),
        (["1-10", 443], 443, True),
    ],
)
def test_port_forms(spec: object, port: int, expected: bool) -> None:
    assert match(port=spec).matches(sock("0.0.0.0", port, "x")) is expected


def test_process_exact_name_list_and_regex() -> None:
    sshd = sock("0.0.0.0", 22, "sshd")
    assert match(process="sshd").matches(sshd)
    assert not match(process="ssh").matches(sshd)  # exact, not a prefix
    assert match(process=["nginx", "sshd"]).matches(sshd)
    assert match(process={"regex": "^ss"}).matches(sshd)
    assert not match(process={"regex": "^d"}).matches(sshd)


def test_netstat_truncated_names_are_reachable_by_regex() -> None:
    truncated = sock("0.0.0.0", 22, "sshd: /usr/sbi")
    assert match(process={"regex": r"^sshd\b"}).matches(truncated)


def test_enum_keys_take_one_value_or_a_list() -> None:
    udp = sock("::", 53, "dnsmasq", proto=Proto.UDP, state=SocketState.UNCONN)
    assert match(proto="udp", family="ipv6", state="UNCONN", scope="any").matches(udp)
    assert match(proto=["tcp", "udp"], family=[Family.IPV4, Family.IPV6]).matches(udp)
    assert not match(proto="tcp").matches(udp)


def test_not_excludes_what_the_nested_matcher_picks() -> None:
    x11 = match(port="6000-6063", **{"not": {"scope": "loopback"}})
    assert x11.matches(sock("0.0.0.0", 6000, "Xorg"))
    assert not x11.matches(sock("127.0.0.1", 6000, "Xorg"))


def test_owner_unknown_is_undecided_by_process_unless_a_port_stands_in() -> None:
    hidden = unknown_owner("0.0.0.0", 3306)
    assert match(process="mysqld").decide(hidden) is None
    assert match(process="mysqld", port=3306).decide(hidden) is True
    assert match(process="mysqld", port=5432).decide(hidden) is False


def test_kernel_sockets_with_no_process_are_not_undecided() -> None:
    # root saw every process: no process means no process (e.g. an NFS kernel socket)
    kernel = sock("0.0.0.0", 2049, None, owner_known=True)
    assert match(process="nfsd").decide(kernel) is False


def test_not_of_an_undecided_match_stays_undecided() -> None:
    hidden = unknown_owner("0.0.0.0", 3306)
    assert match(**{"not": {"process": "mysqld"}}).decide(hidden) is None
    assert match(**{"not": {"process": "mysqld", "port": 3306}}).decide(hidden) is False


def test_wildcard_port_never_matches_a_port_condition() -> None:
    wildcard = replace(sock("0.0.0.0", 22, "x"), local_port=None)
    assert not match(port="1-65535").matches(wildcard)


def test_family_ipv4_also_matches_a_dual_stack_ipv6_wildcard() -> None:
    from fleetaudit.model import Family, Proto, RawSocket, Socket, SocketState, Tool
    from fleetaudit.policy.matchers import SocketMatch

    def wildcard(v6only: bool | None) -> Socket:
        return Socket.from_raw(
            RawSocket(Tool.SS, Proto.TCP, Family.IPV6, SocketState.LISTEN, 0, 128, "::", 23,
                      None, "::", None, (), True, v6only=v6only)
        )  # fmt: skip

    ipv4 = SocketMatch.model_validate({"family": "ipv4"})
    assert ipv4.matches(wildcard(False))
    assert not ipv4.matches(wildcard(True))
    assert not ipv4.matches(wildcard(None))  # unknown: not claimed


def test_family_ipv6_does_not_match_an_ipv4_mapped_address() -> None:
    """QA: a redis on ``[::ffff:0.0.0.0]:6381`` (v6only:0) was reported by a ``family:
    ipv6`` rule and described as "any address, IPv6 and IPv4"; a connect to ``[::1]`` was
    refused and one to 127.0.0.1 accepted. An IPv4-mapped address carries IPv4 only."""
    from fleetaudit.model import Family, Proto, RawSocket, Socket, SocketState, Tool
    from fleetaudit.policy.matchers import SocketMatch
    from fleetaudit.policy.rules.interface import describe_listener

    def v6_socket(address: str) -> Socket:
        return Socket.from_raw(
            RawSocket(Tool.SS, Proto.TCP, Family.IPV6, SocketState.LISTEN, 0, 128, address,
                      6381, None, "::", None, (), True, v6only=False)
        )  # fmt: skip

    ipv6, ipv4 = (SocketMatch.model_validate({"family": f}) for f in ("ipv6", "ipv4"))
    for mapped in ("::ffff:0.0.0.0", "::ffff:10.0.0.5", "::ffff:127.0.0.1"):
        assert not ipv6.matches(v6_socket(mapped)), mapped
        assert ipv4.matches(v6_socket(mapped)), mapped
        assert SocketMatch.model_validate({"not": {"family": "ipv6"}}).matches(v6_socket(mapped))
    for v6 in ("::", "::1", "2001:db8::5"):
        assert ipv6.matches(v6_socket(v6)), v6
    assert describe_listener(v6_socket("::ffff:0.0.0.0")).endswith("(any IPv4 address)")
    assert describe_listener(v6_socket("::")).endswith("(any address, IPv6 and IPv4)")
