"""`merge` refuses shards that cannot be parts of one audit, and never depends on the order
of its arguments: real `run --shard K/N` reports, edited as a QA engineer did."""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fleetaudit import __version__
from fleetaudit.cli.merge import DEFAULT_MAX_SPREAD_HOURS
from fleetaudit.merge import DEFAULT_MAX_SPREAD, _newest
from fleetaudit.shards import shard_of
from tests.factories import as_json, sock
from tests.runcli import fleetaudit

LOCAL = ("h1", "h2", "h3", "h4", "h5")
REFUSED = "gone"
TOLERANT = ("--allow-unreachable", "--fail-on", "critical")
POLICY = """\
version: 1
name: qa
rules:
  - id: no-telnet
    kind: forbidden
    severity: high
    description: no telnet
    match: {{port: {port}, proto: tcp}}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, refused_port: int) -> Path:
    """An inventory (five names for this machine, one refused host) and a policy."""
    root = tmp_path_factory.mktemp("site")
    entries = "".join(f"  {n}: {{transport: local, address: 127.0.0.1}}\n" for n in LOCAL)
    entries += f"  {REFUSED}: {{address: 127.0.0.1, port: {refused_port}}}\n"
    (root / "hosts.yaml").write_text("hosts:\n" + entries)
    (root / "pol.yaml").write_text(POLICY.format(port=23))
    assert {shard_of(n, 2) for n in (*LOCAL, REFUSED)} == {1, 2}, "both shards hold hosts"
    return root


def run_shard(site: Path, k: int, report: Path, *extra: str | Path) -> None:
    done = fleetaudit(
        "run", site / "hosts.yaml", "--shard", f"{k}/2", "--no-history", "-o", f"json={report}",
        "--policy", site / "pol.yaml", *TOLERANT, *extra, state=site,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr


@pytest.fixture(scope="module")
def shards(site: Path) -> list[Path]:
    """The two shard reports of the whole inventory, as the nightly job writes them."""
    reports = [site / f"shard-{k}.json" for k in (1, 2)]
    for k, report in enumerate(reports, 1):
        run_shard(site, k, report)
    return reports


def copies(shards: list[Path], into: Path) -> list[Path]:
    return [Path(shutil.copy(path, into / path.name)) for path in shards]


def edit(path: Path, change: Any) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def merge(*args: str | Path) -> Any:
    return fleetaudit("merge", *args, *TOLERANT)


def test_the_untouched_shards_merge(shards: list[Path]) -> None:
    done = merge(*shards, "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    assert len(json.loads(done.stdout)["hosts"]) == 6


def test_a_shard_report_from_an_earlier_night_is_refused(
    shards: list[Path], tmp_path: Path
) -> None:
    one, two = copies(shards, tmp_path)

    def a_week_earlier(document: Any) -> None:
        for key in ("started_at", "finished_at"):
            when = datetime.fromisoformat(document["run"][key]) - timedelta(days=7)
            document["run"][key] = when.isoformat()

    edit(two, a_week_earlier)
    done = merge(one, two)
    assert done.returncode == 2
    assert f"{two} started at" in done.stderr and f"and {one} at" in done.stderr
    assert "7.0 days apart (more than --max-spread 6 hours)" in done.stderr
    wider = merge(one, two, "--max-spread", "200")
    assert wider.returncode in (0, 1), wider.stderr
    # a short spread in seconds: "0.0 hours apart (more than --max-spread 0.0 hours)"
    edit(two, lambda document: document["run"].update(started_at=_later(one, seconds=2)))
    strict = merge(one, two, "--max-spread", "0")
    assert strict.returncode == 2
    assert "2.0 seconds apart (more than --max-spread 0 hours)" in strict.stderr


def _later(report: Path, seconds: float) -> str:
    """The start of the run of ``report``, ``seconds`` later, as the report writes it."""
    started = datetime.fromisoformat(json.loads(report.read_text())["run"]["started_at"])
    return (started + timedelta(seconds=seconds)).isoformat()
    assert DEFAULT_MAX_SPREAD == timedelta(hours=DEFAULT_MAX_SPREAD_HOURS)


def test_limited_shards_do_not_claim_the_whole_fleet(
    site: Path, shards: list[Path], tmp_path: Path
) -> None:
    limited = [tmp_path / f"limited-{k}.json" for k in (1, 2)]
    for k, report in enumerate(limited, 1):
        run_shard(site, k, report, "--limit", f"!{REFUSED}")  # all audited: a clean night
    done = merge(*limited, "-o", f"prom={tmp_path / 'part.prom'}")
    assert done.returncode == 0, done.stderr
    assert "fleetaudit_last_success_timestamp_seconds" not in (tmp_path / "part.prom").read_text()
    whole = [json.loads(p.read_text())["run"]["shard"]["whole_inventory"] for p in shards]
    part = [json.loads(p.read_text())["run"]["shard"]["whole_inventory"] for p in limited]
    assert (whole, part) == ([True, True], [False, False])


def test_one_policy_read_from_two_paths_merges(site: Path, tmp_path: Path) -> None:
    shutil.copy(site / "pol.yaml", tmp_path / "pol.yaml")
    one, two = tmp_path / "shard-1.json", tmp_path / "shard-2.json"
    run_shard(site, 1, one)
    run_shard(site, 2, two, "--policy", tmp_path / "pol.yaml")  # the later --policy wins
    assert json.loads(two.read_text())["run"]["policy_source"].startswith(str(tmp_path))
    done = merge(one, two)
    assert done.returncode in (0, 1), done.stderr


def test_two_versions_of_one_policy_file_do_not_merge(site: Path, tmp_path: Path) -> None:
    policy = tmp_path / "pol.yaml"
    one, two = tmp_path / "shard-1.json", tmp_path / "shard-2.json"
    policy.write_text(POLICY.format(port=23))
    run_shard(site, 1, one, "--policy", policy)
    policy.write_text(POLICY.format(port=2323))  # same name, same path, another port
    run_shard(site, 2, two, "--policy", policy)
    done = merge(one, two)
    assert done.returncode == 2
    assert (
        f"{two} and {one} used different versions of policy 'qa' (both read from {policy}; "
        "their rules' settings or their waivers differ)" in done.stderr
    )


def test_the_merge_does_not_depend_on_the_order_of_its_arguments(
    site: Path, shards: list[Path], tmp_path: Path
) -> None:
    one, two = copies(shards, tmp_path)
    run_shard(site, 2, two, "--insecure-no-host-key-check")

    def stopped(document: Any) -> None:
        document["run"]["interrupted_by"] = "SIGTERM"
        document["run"]["fleetaudit_version"] = "0.0.1"
        host = document["hosts"][0]
        host.update(status="interrupted", error="stopped", sockets=[])
        document["findings"] = [f for f in document["findings"] if f["host"] != host["host"]]

    edit(one, stopped)
    results = []
    for order in ((one, two), (two, one)):
        done = merge(*order, "--format", "json")
        assert done.returncode == 2, done.stderr  # a host not audited; not 143
        run = json.loads(done.stdout)["run"]
        results.append((run["host_key_policy"], run["interrupted_by"], done.stderr))
    assert results[0] == results[1]
    policy, interrupted, stderr = results[0]
    assert (policy, interrupted) == ("insecure-no-host-key-check", "SIGTERM")
    assert f"{one} was stopped by SIGTERM" in stderr
    # the merge itself was not stopped: it says whose interruption its report carries
    assert "a shard was interrupted by SIGTERM: the report above is partial" in stderr
    assert "fleetaudit: interrupted by" not in stderr
    assert "the reports differ in host_key_policy" in stderr and "the weakest" in stderr
    assert "the reports differ in fleetaudit_version" in stderr


def test_a_host_deleted_from_a_shard_report_is_noticed(shards: list[Path], tmp_path: Path) -> None:
    one, two = copies(shards, tmp_path)

    def without_a_host(document: Any) -> None:
        gone = document["hosts"].pop()["host"]
        document["findings"] = [f for f in document["findings"] if f["host"] != gone]

    edit(two, without_a_host)
    done = merge(one, two)
    assert done.returncode == 2
    assert "the shards hold 5 hosts, not the 6 hosts they were split from" in done.stderr


@pytest.mark.parametrize("count", ["99999999999999999999", "10001"])
def test_the_number_of_shards_is_bounded(site: Path, count: str) -> None:
    done = fleetaudit("run", site / "hosts.yaml", "--shard", f"1/{count}", "--no-history")
    assert done.returncode == 2
    assert f"--shard '1/{count}': N must be between 1 and 10000" in done.stderr


def test_fields_of_a_newer_release_are_left_out_with_a_word(
    shards: list[Path], tmp_path: Path
) -> None:
    """A newer release may add fields (the schema version changes only when one is removed
    or changes meaning): a merge or diff host upgraded after the shard runners goes on
    working, and says what it left out."""
    one, two = copies(shards, tmp_path)

    def from_a_newer_release(document: Any) -> None:
        document["run"]["fleetaudit_version"] = "9.0.0"
        document["run"]["carbon_grams"] = 3
        audited = next(host for host in document["hosts"] if host["status"] == "ok")
        audited["kernel"] = "6.18"
        audited["sockets"].append({**as_json(sock(port=22)), "cgroup": "/sshd.service"})

    edit(two, from_a_newer_release)
    done = merge(one, two, "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    assert (
        f"{two}: fields unknown to fleetaudit {__version__} left out (carbon_grams, cgroup, "
        "kernel): written by fleetaudit 9.0.0"
    ) in done.stderr
    merged = json.loads(done.stdout)
    assert len(merged["hosts"]) == 6
    # The merged report holds both releases' fields: it is labelled with the newer one.
    assert merged["run"]["fleetaudit_version"] == "9.0.0"
    assert "the merged report says 9.0.0, the newest" in done.stderr
    changes = fleetaudit("diff", one, two)
    assert changes.returncode in (0, 1), changes.stderr  # 1: the two shards differ
    assert "left out (carbon_grams, cgroup, kernel)" in changes.stderr

    def many(document: Any) -> None:
        document["carried_by"] = "a newer release"  # top level, next to run and hosts
        for number, host in enumerate(document["hosts"]):
            host.update({f"f{number}_{k}": k for k in range(6)})

    edit(two, many)
    done = merge(one, two)
    assert done.returncode in (0, 1), done.stderr
    assert "left out (carbon_grams, carried_by, cgroup, f0_0," in done.stderr
    assert re.search(r"f1_\d and \d+ more\): written by fleetaudit 9\.0\.0", done.stderr)

    def broken(document: Any) -> None:
        document["hosts"][0]["status"] = "sleeping"  # no release ever wrote this

    edit(two, broken)  # the unknown fields are still there, before the real error
    done = merge(one, two)
    assert done.returncode == 2 and "not a fleetaudit run: hosts.0.status" in done.stderr


@pytest.mark.parametrize(
    ("versions", "newest"),
    [
        (("0.9.1", "0.10.0"), "0.10.0"),
        (("1.0.0rc1", "1.0.0"), "1.0.0"),
        (("1.0.0-rc1", "1.0.0"), "1.0.0"),
        (("1.0.0.dev1", "1.0.0"), "1.0.0"),
        (("1.0.0", "1.0.1rc1"), "1.0.1rc1"),
        (("0.\u00b2", "0.2.0"), "0.2.0"),  # digits, but not ASCII ones: no version
        (("garbage", "0.1"), "0.1"),
    ],
)
def test_a_merged_report_is_labelled_with_the_newest_release(
    versions: tuple[str, str], newest: str
) -> None:
    assert _newest(versions) == _newest(reversed(versions)) == newest


def test_shards_started_on_two_utc_days_or_with_other_samples_merge_with_a_word(
    shards: list[Path], tmp_path: Path
) -> None:
    """QA: shards run either side of midnight UTC judged one waiver in force and expired,
    and a shard without --samples lost a host-level drops finding; both merged silently."""
    one, two = copies(shards, tmp_path)

    def next_day(document: Any) -> None:
        started = datetime.fromisoformat(document["run"]["started_at"])
        document["run"]["started_at"] = (started + timedelta(days=1)).isoformat()
        document["run"]["finished_at"] = document["run"]["started_at"]
        for host in document["hosts"]:
            host["samples"] = 3

    edit(two, next_day)
    done = merge(one, two, "--max-spread", "48")
    assert done.returncode in (0, 1), done.stderr
    assert "the reports differ in the UTC day they started on" in done.stderr
    assert "each judged its waivers by its own day" in done.stderr
    assert f"the reports differ in --samples ({one} 1, {two} 3)" in done.stderr
    assert "differ in" not in merge(*shards).stderr
