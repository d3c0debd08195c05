"""``kpitools run --all --shard I/N`` and ``kpitools index``: a stable split of the params
files, and a portal rebuilt from what every shard published."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from test_workers import make_project

from kpitools.errors import KpitoolsError
from kpitools.runner import parse_shard, select_shard, shard_of

ROOT = Path(__file__).resolve().parent.parent


def test_parse_shard_checks_i_and_n():
    assert parse_shard("2/5") == (2, 5)
    assert parse_shard("1/1") == (1, 1)
    with pytest.raises(KpitoolsError, match=r"^--shard 3/2: I must be between 1 and N$"):
        parse_shard("3/2")
    with pytest.raises(KpitoolsError, match="I must be between 1 and N"):
        parse_shard("0/2")
    for bad in ("2", "a/b", "1/0"):
        with pytest.raises(KpitoolsError, match=f"--shard {bad}"):
            parse_shard(bad)


def test_shards_split_by_the_sha256_of_the_slug_and_adding_a_brand_moves_no_other():
    names = [f"/p/params/brand-{k:03d}.yaml" for k in range(60)]
    for name in names[:5]:  # computed independently
        stem = Path(name).stem
        assert shard_of(name, 4) == int(hashlib.sha256(stem.encode()).hexdigest(), 16) % 4 + 1
    parts = [select_shard(names, (i, 4)) for i in range(1, 5)]
    assert sorted(p for part in parts for p in part) == sorted(names)  # a partition
    assert all(parts)  # 60 brands: no empty shard
    before = {n: shard_of(n, 4) for n in names}
    after = {n: shard_of(n, 4) for n in [*names, "/p/params/newcomer.yaml"]}
    assert all(after[n] == before[n] for n in names)
    # the folder does not matter, only the file name: every machine computes the same
    assert shard_of("/elsewhere/brand-007.yaml", 4) == before[names[7]]


@pytest.mark.e2e
def test_two_shards_into_one_reports_folder_then_index_lists_every_brand():
    root = Path(tempfile.mkdtemp(prefix="kpitools-shard-"))
    try:
        slugs = ["north", "south", "east", "west", "centre"]
        make_project(root, slugs)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        split = {s: shard_of(f"{s}.yaml", 2) for s in slugs}
        assert set(split.values()) == {1, 2}  # both shards have work
        base = [sys.executable, "-m", "kpitools.cli", "run", "--all", "--params-dir"]
        base += [str(root / "params"), "--no-pdf", "-j", "1"]
        # the two shards at the same time, into the same reports folder (two machines, NFS)
        shards = {
            i: subprocess.Popen(
                [*base, "--shard", f"{i}/2"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in (1, 2)
        }
        for i, proc in shards.items():
            out, err = proc.communicate(timeout=600)
            assert proc.returncode == 0, out + err
            ran = {s for s in slugs if f"\n{s} " in "\n" + out}
            assert ran == {s for s in slugs if split[s] == i}, out
        runs = (root / "reports" / "runs.jsonl").read_text().splitlines()
        assert len(runs) == len(slugs)  # both shards appended, no line lost or torn
        bad = subprocess.run([*base, "--shard", "3/2"], env=env, capture_output=True, text=True)
        assert bad.returncode == 2
        assert "--shard 3/2: I must be between 1 and N" in bad.stderr
        index = root / "reports" / "index.html"
        index.unlink()
        proc = subprocess.run(
            [sys.executable, "-m", "kpitools.cli", "index", "--reports-dir", str(root / "reports")],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        html = index.read_text(encoding="utf-8")
        for s in slugs:
            assert f"{s}/2025-06/report.html" in html, s
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_shard_runs_share_the_folder_lock_a_whole_folder_run_waits_for_them(tmp_path):
    from kpitools.errors import RunLockedError
    from kpitools.runs import ReportsLock

    one = ReportsLock(tmp_path, shard=(1, 2)).acquire()
    two = ReportsLock(tmp_path, shard=(2, 2)).acquire()  # another shard runs at once
    try:
        with pytest.raises(RunLockedError, match=r"\.lock-shard-1-of-2 \(pid \d+"):
            ReportsLock(tmp_path, shard=(1, 2)).acquire()  # the same shard twice: no
        with pytest.raises(RunLockedError, match=r"another run holds .*/\.lock "):
            ReportsLock(tmp_path).acquire()  # a whole-folder run (or `kpitools index`) waits
    finally:
        one.release()
        two.release()
    whole = ReportsLock(tmp_path).acquire()
    try:
        with pytest.raises(RunLockedError):
            ReportsLock(tmp_path, shard=(2, 2)).acquire()  # and shards wait for it
    finally:
        whole.release()
    ReportsLock(tmp_path, shard=(2, 2)).acquire().release()


def test_a_shard_repairs_only_its_own_brands(tmp_path):
    from kpitools.runs import recover_reports

    for brand in ("mine", "theirs"):  # a staging folder a run is writing (or a killed one left)
        (tmp_path / brand / ".staging-2025-06-x").mkdir(parents=True)
    (tmp_path / "index.4242.html.tmp").write_text("another shard is writing its index")
    recover_reports(tmp_path, brands=["mine"])
    assert not (tmp_path / "mine" / ".staging-2025-06-x").exists()
    assert (tmp_path / "theirs" / ".staging-2025-06-x").exists()  # another shard's: untouched
    assert (tmp_path / "index.4242.html.tmp").exists()
    recover_reports(tmp_path)  # a whole-folder run holds the lock alone: everything
    assert not (tmp_path / "theirs" / ".staging-2025-06-x").exists()
    assert not (tmp_path / "index.4242.html.tmp").exists()
