"""--shard K/N splits a fleet deterministically; merge makes the shards one run again."""

from __future__ import annotations

import json
import shutil
import socket
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from fleetaudit.auditor import Auditor
from fleetaudit.errors import InputError
from fleetaudit.inventory.model import Host
from fleetaudit.lab.replies import RecordedHost
from fleetaudit.merge import merge_runs
from fleetaudit.model.enums import Tool
from fleetaudit.model.run import RunResult
from fleetaudit.policy import load_default_policy
from fleetaudit.report.json import JsonFormatter
from fleetaudit.shards import select_shard, shard_info, shard_of
from fleetaudit.transport import ReplayTransport
from tests.runcli import fleetaudit

DEMO = Path(str(resources.files("fleetaudit").joinpath("data", "demo")))
RECORDINGS = {
    "ss": (DEMO / "db1.ss.txt").read_text(),
    "netstat": (DEMO / "legacy1.netstat.txt").read_text(),
}
VOLATILE = {"run_id", "started_at", "finished_at", "collected_at", "duration_s"}


def fleet() -> tuple[list[Host], ReplayTransport]:
    hosts, responders = [], {}
    for index in range(24):
        tool = "ss" if index % 3 else "netstat"
        name = f"host{index:02d}"
        hosts.append(
            Host(name=name, address=f"192.0.2.{index + 1}", groups=("db",) if index % 2 else ())
        )
        responders[name] = RecordedHost(Tool(tool), RECORDINGS[tool], login_uid=0).reply
    return hosts, ReplayTransport(responders)


def stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


def test_shards_cover_every_host_once_and_merge_to_the_unsharded_run() -> None:
    hosts, transport = fleet()
    policy = load_default_policy()
    whole = Auditor(transport=transport).run(hosts, policy)
    shards = [select_shard(hosts, k, 3) for k in (1, 2, 3)]
    assert sorted(h.name for shard in shards for h in shard) == sorted(h.name for h in hosts)
    assert all(shards), "24 hosts over 3 shards: none empty"
    merged = merge_runs([Auditor(transport=transport).run(shard, policy) for shard in shards])
    assert stable(merged.model_dump(mode="json")) == stable(whole.model_dump(mode="json"))


def test_shard_assignment_is_stable_and_balanced() -> None:
    assert shard_of("web1.example.com", 5) == shard_of("web1.example.com", 5)
    counts = Counter(shard_of(f"host{i}", 4) for i in range(4000))
    assert set(counts) == {1, 2, 3, 4} and min(counts.values()) > 850


def test_merge_command_and_its_errors(tmp_path: Path) -> None:
    for name in ("db1", "db2", "web1"):
        shutil.copy(DEMO / "db1.ss.txt", tmp_path / f"{name}.ss.txt")
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    fleetaudit(
        "check",
        tmp_path / "db1.ss.txt",
        tmp_path / "db2.ss.txt",
        "-o",
        f"json={first}",
        "--privileged",
    )
    fleetaudit("check", tmp_path / "web1.ss.txt", "-o", f"json={second}", "--privileged")
    done = fleetaudit("merge", first, second, "--format", "json")
    assert done.returncode == 1, done.stderr  # mysqld on 0.0.0.0 is high: findings
    merged = json.loads(done.stdout)
    assert [h["host"] for h in merged["hosts"]] == ["db1", "db2", "web1"]
    again = fleetaudit("merge", first, first)
    assert again.returncode == 2 and "more than one report" in again.stderr


def shard_runs(count: int = 3) -> tuple[list[Host], list[RunResult]]:
    """Every shard of the 24-host fleet, recorded as `run --shard K/N` records them."""
    hosts, transport = fleet()
    policy = load_default_policy()
    runs = [
        Auditor(transport=transport)
        .run(select_shard(hosts, k, count), policy)
        .model_copy(update={"shard": shard_info(hosts, k, count)})
        for k in range(1, count + 1)
    ]
    return hosts, runs


def test_merge_refuses_an_incomplete_or_inconsistent_set_of_shards() -> None:
    hosts, (one, two, three) = shard_runs()
    assert merge_runs([three, one, two]).shard is None
    with pytest.raises(InputError, match=r"shards missing: 3/3 \(merge needs all 3\)"):
        merge_runs([one, two])
    with pytest.raises(InputError, match="both shard 1/3"):
        merge_runs([one, one, two, three], ["a.json", "b.json", "c.json", "d.json"])
    _, (other_split, *_) = shard_runs(2)
    with pytest.raises(InputError, match="is shard 1/2, .* is 1/3: not one split"):
        merge_runs([one, two, other_split])
    foreign = three.model_copy(update={"shard": shard_info(hosts[:-1], 3, 3)})
    with pytest.raises(InputError, match="sharded different host selections"):
        merge_runs([one, two, foreign])
    unsharded = three.model_copy(update={"shard": None})
    with pytest.raises(InputError, match="z.json is not a shard report"):
        merge_runs([one, two, unsharded], ["x.json", "y.json", "z.json"])
    mislabelled = three.model_copy(update={"shard": two.shard})
    with pytest.raises(InputError, match="says shard 2/3 but holds host"):
        merge_runs([one, mislabelled], ["x.json", "y.json"])


def test_merge_refuses_shards_judged_by_different_rules() -> None:
    _, (one, two, three) = shard_runs()
    edited = three.model_copy(update={"rules": three.rules[1:]})
    with pytest.raises(InputError, match="rules differ"):
        merge_runs([one, two, edited])


def test_shard_reports_carry_k_of_n_and_the_command_refuses_a_missing_shard(
    tmp_path: Path,
) -> None:
    _, runs = shard_runs()
    schema = json.loads((resources.files("fleetaudit") / "data" / "report.schema.json").read_text())
    paths = []
    for run in runs:
        path = tmp_path / f"shard{run.shard.index if run.shard else 0}.json"
        path.write_text(JsonFormatter().render(run))
        document = json.loads(path.read_text())
        jsonschema.validate(document, schema)
        assert document["run"]["shard"]["count"] == 3
        paths.append(path)
    whole = JsonFormatter().render(merge_runs(runs))
    assert '"shard"' not in whole, "a whole run's report has no shard key"
    done = fleetaudit("merge", *paths[:2], "--allow-unreachable")
    assert done.returncode == 2, done.stderr
    assert "shards missing: 3/3" in done.stderr
    done = fleetaudit("merge", *paths, "--allow-unreachable", "--format", "json")
    assert done.returncode in (0, 1), done.stderr
    assert len(json.loads(done.stdout)["hosts"]) == 24


def test_run_with_shard_records_it_and_merge_needs_every_shard(tmp_path: Path) -> None:
    """`run --shard K/N` end to end (the local transport: this machine under four names)."""
    inventory = tmp_path / "hosts.yaml"
    entries = "".join(
        f"  h{i}: {{transport: local, address: 127.0.0.1}}\n" for i in range(1, 5)
    )  # fmt: skip
    inventory.write_text("hosts:\n" + entries)
    reports = []
    for k in (1, 2):
        report = tmp_path / f"s{k}.json"
        done = fleetaudit(
            "run", inventory, "--shard", f"{k}/2", "--no-history", "-f", "json", "-o", report,
            "--allow-unreachable", "--fail-on", "critical", state=tmp_path,
        )  # fmt: skip
        assert done.returncode in (0, 1), done.stderr
        assert json.loads(report.read_text())["run"]["shard"]["index"] == k
        reports.append(report)
    merged = fleetaudit("merge", *reports, "--allow-unreachable", "--fail-on", "critical")
    assert merged.returncode in (0, 1), merged.stderr
    assert len(json.loads(merged.stdout)["hosts"]) == 4
    alone = fleetaudit("merge", reports[0], "--allow-unreachable")
    assert alone.returncode == 2 and "shards missing: 2/2" in alone.stderr


@pytest.mark.parametrize("tolerant", [[], ["--allow-unreachable"]])
def test_an_empty_shard_exits_0_and_merge_stays_the_gate(
    tmp_path: Path, tolerant: list[str]
) -> None:
    with socket.socket() as held:  # bound, not listening: connecting is refused at once
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        names = ("h0", "h1", "h2")  # shards 4, 4 and 3 of 4: shards 1 and 2 hold no host
        assert sorted(shard_of(name, 4) for name in names) == [3, 4, 4]
        fleet = tmp_path / "inventory.yaml"
        fleet.write_text(
            "hosts:\n" + "".join(f"  {n}: {{address: 127.0.0.1, port: {port}}}\n" for n in names)
        )
        reports, results = [], []
        for k in (1, 2, 3, 4):
            reports.append(tmp_path / f"shard{k}.json")
            results.append(
                fleetaudit(
                    "run",
                    fleet,
                    "--shard",
                    f"{k}/4",
                    "-o",
                    f"json={reports[-1]}",
                    "--no-history",
                    *tolerant,
                )  # fmt: skip
            )
    for empty in results[:2]:
        assert empty.returncode == 0, empty.stderr
    assert "fleetaudit: shard 1/4 holds no host (3 hosts in 4 shards)\n" in results[0].stderr
    assert "fleetaudit: shard 2/4 holds no host (3 hosts in 4 shards)\n" in results[1].stderr
    assert [r.returncode for r in results[2:]] == [2, 2]  # their hosts were not audited
    merged = fleetaudit("merge", *reports, "-o", tmp_path / "all.json", *tolerant)
    assert merged.returncode == 2, merged.stderr
    assert "3 hosts, 0 audited" in merged.stderr and "exit 2: no host audited" in merged.stderr
