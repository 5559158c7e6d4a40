"""The collection script's header: what the host said about itself."""

import pytest

from fleetaudit.collect.reply import parse_reply
from fleetaudit.errors import TransportError
from fleetaudit.model import HostStatus, Privilege, Tool


def test_header_then_output_is_split():
    reply = parse_reply(
        "@@fleetaudit 1\n@@uid 1000\n@@tool netstat\n@@sudo-refused sudo: a password is "
        "required\n@@privilege unprivileged\n@@output\nProto Recv-Q\nline2\n"
    )
    assert reply.tool is Tool.NETSTAT
    assert reply.privilege is Privilege.UNPRIVILEGED
    assert reply.uid == "1000"
    assert reply.sudo_refused == "sudo: a password is required"
    assert reply.output == "Proto Recv-Q\nline2\n"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("32768\t60999", (32768, 60999)),
        ("1024 65535", (1024, 65535)),
        ("60999 32768", None),  # the kernel refuses it; a garbled reply, not a range
        ("0 100", None),
        ("1 70000", None),
        ("32768", None),
        ("\uff13\uff12 60999", None),  # digits, but not ASCII
        ("", None),
    ],
)
def test_the_ephemeral_range_is_two_ports_lowest_first(
    line: str, expected: tuple[int, int] | None
) -> None:
    reply = parse_reply(
        f"@@fleetaudit 1\n@@ephemeral {line}\n@@tool ss\n@@privilege root\n@@output\n"
    )
    assert reply.ephemeral == expected


def test_empty_output_after_marker_is_kept_empty():
    reply = parse_reply("@@fleetaudit 1\n@@tool ss\n@@privilege root\n@@output\n")
    assert reply.output == ""


@pytest.mark.parametrize(
    "stdout",
    [
        "",
        "Welcome to host!\n",  # a login script's output, and no script
        "This account is restricted.\n@@output\n",  # a forced command, not our script
        "x\n" * 1001 + "@@fleetaudit 1\n@@tool ss\n@@privilege root\n@@output\n",  # too much
        "@@fleetaudit 1\n@@tool ss\n",  # cut before the output marker
        "@@tool ss\n@@privilege root\n@@output\n",  # not our script
        "@@fleetaudit 1\n@@tool telnet\n@@privilege root\n@@output\n",
    ],
)
def test_foreign_or_broken_replies_fail_the_host_clearly(stdout):
    with pytest.raises(TransportError) as info:
        parse_reply(stdout)
    assert info.value.status is HostStatus.COMMAND_FAILED
    assert info.value.message


def test_what_a_login_shell_prints_first_is_skipped():
    motd = "Welcome to web1!\n\n  Authorized use only.\n"
    reply = parse_reply(motd + "@@fleetaudit 1\n@@tool ss\n@@privilege root\n@@output\nNetid\n")
    assert (reply.tool, reply.output) == (Tool.SS, "Netid\n")


def test_error_names_the_first_unexpected_line_with_its_number():
    with pytest.raises(TransportError) as info:
        parse_reply("Welcome!\n@@fleetaudit 1\nstray text\n@@output\n")
    assert "line 3" in info.value.message and "'stray text'" in info.value.message


def test_a_greeting_without_its_newline_is_skipped_too():
    # `printf Welcome` in a .bashrc: the script's first line follows on the same line
    reply = parse_reply("Welcome\n\nhello@@fleetaudit 1\n@@tool ss\n@@privilege root\n@@output\n")
    assert reply.tool is Tool.SS


def test_an_empty_reply_says_so():
    for stdout in ("", "\n\n"):
        with pytest.raises(TransportError) as info:
            parse_reply(stdout)
        assert "printed nothing" in info.value.message


HEADER = "@@fleetaudit 1\n@@tool ss\n@@privilege root\n@@output\nNetid\n"


def test_a_long_login_banner_is_skipped():
    # a 200-line legal banner failed the host with "unexpected output on line 1"
    banner = "".join(f"  Authorised use only ({i}).\n" for i in range(200))
    assert parse_reply(banner + HEADER).tool is Tool.SS


def test_a_reply_without_the_header_in_its_first_lines_says_how_far_it_looked():
    with pytest.raises(TransportError) as info:
        parse_reply("banner\n" * 1001 + HEADER)
    message = info.value.message
    assert "header (@@fleetaudit) was not found within the first 1,000 lines" in message
    assert "line 1 is 'banner'" in message


def test_the_header_search_is_bounded_in_bytes_too():
    with pytest.raises(TransportError) as info:
        parse_reply("x" * (300 * 1024) + "\n" + HEADER)
    assert "(256 KiB)" in info.value.message


def test_crlf_line_endings_are_named():
    crlf = HEADER.replace("\n", "\r\n")
    with pytest.raises(TransportError) as info:
        parse_reply(crlf)
    assert info.value.status is HostStatus.COMMAND_FAILED
    assert "line 5" in info.value.message and "CRLF line endings" in info.value.message
    assert "forced command or a restricted shell" not in info.value.message


def test_a_header_naming_no_tool_says_what_it_held_and_why_that_is_wrong():
    """A login message that prints lines looking like fleetaudit's header (QA made one)
    read "'' is not a valid Tool"."""
    with pytest.raises(TransportError) as caught:
        parse_reply("@@fleetaudit 1\n@@tool\n@@privilege root\n@@output\n")
    assert caught.value.status is HostStatus.COMMAND_FAILED
    message = str(caught.value)
    assert "malformed script header (tool '', privilege 'root'" in message
    assert "one of ss, netstat, proc" in message and "something on the host printed" in message
