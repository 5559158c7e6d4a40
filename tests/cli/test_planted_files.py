"""Links and files another user planted where a root cron job writes its reports and its
history are refused, never followed or handed back (QA, as root into a sticky directory:
a link made root's report replace a 0600 file of root's elsewhere; a file made beforehand
became theirs again, world-writable, with root's report in it; a planted history let them
rewrite what diff and the metrics trust). Targets found unwritable only after the audit
(a closed descriptor, another's file in a sticky directory) are refused before it too."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from fleetaudit.cli.output import check_writable, write_atomically
from fleetaudit.errors import HistoryError, InputError
from fleetaudit.history import HistoryStore
from fleetaudit.history.connection import check_recordable
from fleetaudit.transport.hostkeys import HostKeyBook
from tests.factories import run_result, snapshot, sock

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to own files as another user")

NOBODY = 65534
CAPTURE = (
    "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"
    "tcp   LISTEN 0      128    0.0.0.0:22         0.0.0.0:*\n"
    "tcp   ESTAB  0      0      10.0.0.5:22        10.0.0.9:50000\n"
)


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A sticky directory every user can write, as /tmp."""
    directory = tmp_path / "shared"
    directory.mkdir()
    directory.chmod(0o1777)
    return directory


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file of root's that no report may replace."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    path = private / "secret"
    path.write_text("ORIGINAL\n")
    path.chmod(0o600)
    return path


def _plant_link(link: Path, target: Path, owner: int = NOBODY) -> None:
    link.symlink_to(target)
    os.lchown(link, owner, owner)


def test_a_link_another_user_planted_is_not_followed(shared: Path, secret: Path) -> None:
    _plant_link(shared / "report.json", secret)
    for attempt in (check_writable, lambda path: write_atomically(path, "report\n")):
        with pytest.raises(InputError, match="symbolic link of uid 65534 .* may have been planted"):
            attempt(shared / "report.json")
    assert secret.read_text() == "ORIGINAL\n"


def test_a_dangling_link_another_user_planted_creates_nothing(shared: Path, secret: Path) -> None:
    created = secret.parent / "created-by-root"
    _plant_link(shared / "nightly.csv", created)
    with pytest.raises(InputError, match="may have been planted"):
        write_atomically(shared / "nightly.csv", "report\n")
    assert not created.exists()


def test_a_file_another_user_made_beforehand_is_not_filled_and_handed_back(shared: Path) -> None:
    planted = shared / "pre.json"
    planted.write_text("")
    os.chown(planted, NOBODY, NOBODY)
    planted.chmod(0o666)
    with pytest.raises(InputError, match="a file of uid 65534 .* planted there by that user"):
        write_atomically(planted, "report\n")
    assert planted.read_text() == ""


def test_a_group_writable_directory_counts_as_shared(tmp_path: Path, secret: Path) -> None:
    team = tmp_path / "team"
    team.mkdir()
    team.chmod(0o2775)
    _plant_link(team / "report.json", secret)
    with pytest.raises(InputError, match="a directory its group can write"):
        write_atomically(team / "report.json", "report\n")
    assert secret.read_text() == "ORIGINAL\n"


def test_a_planted_directory_or_directory_link_on_the_way_is_refused(
    tmp_path: Path, shared: Path, secret: Path
) -> None:
    """QA, the first fix checked only the last component: a directory link planted in the
    shared directory (``shared/sub -> a 0700 directory of root's``) made root create its
    report and its history there, and a directory of the other user's own (with their
    database in it) took root's runs."""
    _plant_link(shared / "sub", secret.parent)
    own_link = tmp_path / "via-own-link.json"
    own_link.symlink_to(Path("shared") / "sub" / "r.json")  # root's own link, through theirs
    theirs = shared / "theirs"
    theirs.mkdir()
    os.chown(theirs, NOBODY, NOBODY)
    for target in (shared / "sub" / "r.json", own_link, theirs / "r.json"):
        with pytest.raises(InputError, match="may have been planted"):
            check_writable(target)
        with pytest.raises(InputError, match="may have been planted"):
            write_atomically(target, "report\n")
    for db in (shared / "sub" / "h.sqlite", theirs / "h.sqlite"):
        with pytest.raises(HistoryError, match="may have been planted"):
            check_recordable(db)
        with pytest.raises(HistoryError, match="may have been planted"):
            HistoryStore(db)
    assert sorted(p.name for p in secret.parent.iterdir()) == ["secret"]
    assert list(theirs.iterdir()) == []


def test_own_links_and_links_in_private_directories_are_still_followed(
    tmp_path: Path, shared: Path
) -> None:
    """A link the user running fleetaudit made, even in a shared directory, and any link
    in a directory only its owner can write, keep pointing at the replaced report."""
    mine = tmp_path / "current.json"
    (shared / "report.json").symlink_to(mine)
    write_atomically(shared / "report.json", "one\n")
    assert mine.read_text() == "one\n"
    private = tmp_path / "private-links"
    private.mkdir(mode=0o755)
    _plant_link(private / "report.json", mine)  # another user's, where only root writes
    write_atomically(private / "report.json", "two\n")
    assert mine.read_text() == "two\n"


def test_check_refuses_the_planted_report_before_judging(shared: Path, secret: Path) -> None:
    capture = shared.parent / "web1.ss.txt"
    capture.write_text(CAPTURE)
    _plant_link(shared / "report.json", secret)
    done = subprocess.run(
        [sys.executable, "-m", "fleetaudit", "check", str(capture),
         "-o", f"json={shared / 'report.json'}"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "may have been planted" in done.stderr
    assert "Traceback" not in done.stderr
    assert secret.read_text() == "ORIGINAL\n"


def test_a_history_another_user_planted_is_refused_before_the_audit(
    shared: Path, secret: Path
) -> None:
    link = shared / "h.sqlite"
    _plant_link(link, secret.parent / "newdb")
    with pytest.raises(HistoryError, match="cannot record runs in .*may have been planted"):
        check_recordable(link)
    made = shared / "made.sqlite"
    made.write_bytes(b"")
    os.chown(made, NOBODY, NOBODY)
    made.chmod(0o666)
    with pytest.raises(HistoryError, match="a file of uid 65534"):
        check_recordable(made)
    with pytest.raises(HistoryError, match="may have been planted"):
        HistoryStore(made)
    assert not (secret.parent / "newdb").exists()


def test_a_planted_wal_beside_the_history_is_refused(shared: Path) -> None:
    """SQLite reads a -wal beside the database as part of it: whoever owns that file
    decides what the history says."""
    db = shared / "h.sqlite"
    with HistoryStore(db) as store:
        store.save(run_result((snapshot("web1", sock()),)), 0)
    wal = Path(f"{db}-wal")
    wal.touch()
    os.chown(wal, NOBODY, NOBODY)
    with pytest.raises(HistoryError, match=r"h\.sqlite-wal: it is a file of uid 65534"):
        check_recordable(db)


def test_a_history_every_user_may_write_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    with HistoryStore(db) as store:
        store.save(run_result((snapshot("web1", sock()),)), 0)
    db.chmod(0o666)
    with pytest.raises(HistoryError, match="every user may write it .mode 0666.*chmod 600"):
        check_recordable(db)
    db.chmod(0o600)
    check_recordable(db)


def test_a_descriptor_that_is_not_open_is_refused_before_the_audit() -> None:
    """QA: `-o json=/proc/self/fd/7` with fd 7 closed (or /dev/stdout with stdout closed)
    passed the check and failed after the audit."""
    closed = os.open(os.devnull, os.O_RDONLY)
    os.close(closed)
    for spelling in (f"/proc/self/fd/{closed}", f"/dev/fd/{closed}"):
        with pytest.raises(InputError, match="names a file descriptor that is not open"):
            check_writable(Path(spelling))


def test_a_file_only_its_owner_may_replace_is_refused_before_the_audit() -> None:
    """QA, as another user: a file of root's in a sticky directory cannot be renamed over
    (EPERM), which the check let through until after the audit."""
    directory = Path(tempfile.mkdtemp(prefix="fa-sticky-", dir="/tmp"))
    try:
        directory.chmod(0o1777)
        roots = directory / "rootfile.json"
        roots.write_text("root's\n")
        roots.chmod(0o666)
        os.setegid(NOBODY)
        os.seteuid(NOBODY)
        try:
            with pytest.raises(InputError, match="belongs to uid 0 .* sticky directory"):
                check_writable(roots)
            check_writable(directory / "new.json")  # a new file there is fine
        finally:
            os.seteuid(0)
            os.setegid(0)
        assert roots.read_text() == "root's\n"
    finally:
        shutil.rmtree(directory)


def test_dev_stdout_is_the_descriptor_already_open_wherever_it_leads(shared: Path) -> None:
    """QA: with stdout redirected by the shell to a file of another user, `-o json=
    /dev/stdout` was refused as planted, while `--format json` wrote the same bytes there:
    the shell opened the file already; the link walk has nothing to protect."""
    capture = shared.parent / "web1.ss.txt"
    capture.write_text(CAPTURE)
    theirs = shared / "theirs.json"
    theirs.write_text("")
    os.chown(theirs, NOBODY, NOBODY)
    theirs.chmod(0o666)
    with open(theirs, "w") as stdout:
        done = subprocess.run(
            [sys.executable, "-m", "fleetaudit", "check", str(capture), "-o", "json=/dev/stdout"],
            stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    assert '"schema_version"' in theirs.read_text()


def test_history_and_diff_do_not_read_a_planted_history(shared: Path) -> None:
    """QA: `run` refused a database another user planted, but `diff` (which the nightly
    recipe mails when the run failed) and `history` read it: what that user wrote."""
    db = shared / "att.sqlite"
    with HistoryStore(db) as store:
        store.save(run_result((snapshot("web1", sock()),)), 0)
    for each in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        if each.exists():
            os.chown(each, NOBODY, NOBODY)
    with pytest.raises(HistoryError, match="cannot trust history database .*may have been planted"):
        HistoryStore.open_read_only(db)
    for command in (("history", "--db", str(db)), ("diff", "--db", str(db))):
        done = subprocess.run(
            [sys.executable, "-m", "fleetaudit", *command],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 2 and "may have been planted" in done.stderr, done.stderr


def test_a_planted_known_hosts_file_is_not_trusted(shared: Path) -> None:
    """QA: with XDG_STATE_HOME in a shared directory, another user's directory held the
    accept-new file, and strict runs trusted the keys that user put in it. A file of
    trusted keys another user controls lets them stand in for any host."""
    theirs = shared / "fleetaudit"
    theirs.mkdir()
    os.chown(theirs, NOBODY, NOBODY)
    learnt = theirs / "known_hosts"
    learnt.write_text("")
    os.chown(learnt, NOBODY, NOBODY)
    for files, learn in (([learnt], None), ([], learnt)):
        with pytest.raises(InputError, match="cannot trust this known_hosts file: .*planted"):
            HostKeyBook(files, learn)
    mine = shared / "mine_known_hosts"
    mine.write_text("")
    HostKeyBook([mine], None)  # root's own file in the shared directory is fine
    mine.chmod(0o666)  # QA: trusted although any local user could add a key to it
    with pytest.raises(InputError, match=r"every user may write it \(mode 0666\)"):
        HostKeyBook([mine], None)
