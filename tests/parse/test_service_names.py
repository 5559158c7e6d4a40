"""Service names in captures taken without -n: each is the port's official name in the
remote /etc/services, so fleetaudit maps back every name Debian's lists (and common ones of
other distributions); a name it does not know stays a line error."""

from __future__ import annotations

from fleetaudit.parse import netstat, ss
from fleetaudit.parse._addr import SERVICE_PORTS, registered_services

# Lines of `ss -tua` and `netstat -tua` over squid (3130/udp), a font server (7100) and
# apache on 8081, names that Debian's /etc/services gives those ports.
SS_TUA = (
    "Netid State     Recv-Q Send-Q   Local Address:Port   Peer Address:Port Process\n"
    "udp   UNCONN    0      0                    *:icpv2               *:*\n"
    "tcp   LISTEN    0      8              0.0.0.0:font-service  0.0.0.0:*\n"
    "tcp   LISTEN    0      511                  *:tproxy              *:*\n"
    "tcp   LISTEN    0      5            127.0.0.1:nosuchservice 0.0.0.0:*\n"
)
NETSTAT_TUA = (
    "Proto Recv-Q Send-Q Local Address           Foreign Address         State\n"
    "tcp        0      0 0.0.0.0:font-service    0.0.0.0:*               LISTEN\n"
    "udp        0      0 0.0.0.0:icpv2           0.0.0.0:*\n"
)


def test_names_of_the_registered_table_map_to_their_ports() -> None:
    result = ss.parse(SS_TUA)
    assert [s.local_port for s in result.sockets] == [3130, 7100, 8081]
    assert [error.line for error in result.errors] == [5]
    assert "'nosuchservice' is not numeric (capture with -n)" in result.errors[0].reason
    assert [s.local_port for s in netstat.parse(NETSTAT_TUA).sockets] == [7100, 3130]


def test_the_table_gives_each_name_one_port_and_agrees_with_the_extra_names() -> None:
    table = registered_services()
    assert len(table) > 250
    assert all(1 <= port <= 65535 for port in table.values())
    assert {name: table[name] for name in SERVICE_PORTS if name in table} == {
        name: port for name, port in SERVICE_PORTS.items() if name in table
    }
    assert (table["ssh"], table["domain"], table["postgresql"]) == (22, 53, 5432)


def test_a_host_name_that_is_no_name_is_a_line_error_not_a_public_address() -> None:
    """QA: toybox `netstat -tulpW` (no -n) printed uninitialised bytes for 0.0.0.0; the
    line was read as a listener on a public "host name" '\ufffd$k9jU'. Real names pass."""
    capture = (
        "Active Internet connections (only servers)\n"
        "Proto Recv-Q Send-Q Local Address           Foreign Address         State       "
        "PID/Program Name\n"
        "tcp        1      0 \ufffd$k9jU:ssh            0.0.0.0:*               LISTEN      "
        "8528/python3\n"
        "tcp        0      0 localhost:7605          0.0.0.0:*               LISTEN      "
        "8529/python3\n"
        "tcp        0      0 db_01.example.net:5432  0.0.0.0:*               LISTEN      "
        "8530/postgres\n"
    )
    result = netstat.parse(capture, privileged=True)
    assert [(s.local_address, s.local_port) for s in result.sockets] == [
        ("localhost", 7605),
        ("db_01.example.net", 5432),
    ]
    [error] = result.errors
    assert error.line == 3 and "is neither an address nor a host name" in error.reason
