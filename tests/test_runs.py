"""Run history, the reports lock, and publishing under kills (kpitools.runs), without notebooks.

The kill tests run :func:`kpitools.runs.publish_run` in a subprocess that SIGKILLs itself at a
named point (``KPITOOLS_TEST_KILL_AT``), with the atomic exchange and with the two-rename
fallback, then check the current folder byte for byte and repair it as the next run would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kpitools.errors import ReportsFolderError, RunLockedError
from kpitools.runs import (
    KILL_ENV,
    NO_EXCHANGE_ENV,
    ReportsLock,
    RunRecord,
    append_run,
    data_fingerprint,
    history,
    latest_by_params,
    os_error_line,
    prune_runs,
    publish_run,
    read_runs,
    recover_brand,
)

ROOT = Path(__file__).resolve().parent.parent


def _record(run_id: str, params: str = "params/aurora.yaml", **kw) -> RunRecord:
    return RunRecord(run_id=run_id, batch_id="b", params_file=params, brand=Path(params).stem, **kw)


def test_run_records_round_trip_and_a_truncated_last_line_is_skipped(tmp_path):
    append_run(tmp_path, _record("20261202T063000-aaaaaa", status="ok", period="2025-11"))
    append_run(tmp_path, _record("20261202T064000-bbbbbb", params="params/bellevue.yaml"))
    path = tmp_path / "runs.jsonl"
    with open(path, "a", encoding="utf-8") as fh:  # a kill in the middle of a write
        fh.write('{"run_id": "20261202T065000-cccccc", "batch_')
    assert [r.run_id for r in read_runs(tmp_path)] == [
        "20261202T063000-aaaaaa",
        "20261202T064000-bbbbbb",
    ]
    # the next append starts a new line: the truncated one stays alone, the new one is read
    append_run(tmp_path, _record("20261202T070000-dddddd", status="failed", error="boom"))
    runs = read_runs(tmp_path)
    assert [r.run_id for r in runs][-1] == "20261202T070000-dddddd"
    assert runs[-1].error == "boom" and runs[-1].status == "failed"
    assert len(path.read_text().splitlines()) == 4
    last = latest_by_params(tmp_path)
    assert last["params/aurora.yaml"].run_id == "20261202T070000-dddddd"
    assert last["params/bellevue.yaml"].run_id == "20261202T064000-bbbbbb"
    assert [r.run_id for r in history(tmp_path, "bellevue")] == ["20261202T064000-bbbbbb"]
    doc = json.loads(path.read_text().splitlines()[0])
    assert RunRecord.from_dict({**doc, "unknown": 1}).to_dict() == doc


def test_data_fingerprint_changes_with_rows_or_freshness():
    a = {"orders": {"rows": 10, "latest": "2025-12-31T10:00:00"}}
    assert data_fingerprint(a) == data_fingerprint(dict(a))
    assert data_fingerprint(a) != data_fingerprint(
        {"orders": {"rows": 11, "latest": a["orders"]["latest"]}}
    )
    assert data_fingerprint(a) != data_fingerprint({"orders": {"rows": 10, "latest": None}})


def _report(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "report.html").write_text(f"<p>{text}</p>")
    (folder / "kpis.json").write_text(json.dumps({"text": text}))
    return folder


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_publish_keeps_each_run_and_prunes_beyond_keep_runs(tmp_path):
    brand = tmp_path / "aurora"
    current = brand / "2025-11"
    ids = [f"20261202T06{m:02d}00-00000{m}" for m in range(4)]
    for rid in ids:
        staging = _report(brand / f".staging-2025-11-{rid}", rid)
        kept = publish_run(staging, current, rid, keep_runs=3)
        assert kept == current / "runs" / rid
        assert _snapshot(current) == _snapshot(kept)  # the current report is the run's copy
        assert (current / "report.html").read_text() == f"<p>{rid}</p>"
    assert sorted(p.name for p in (current / "runs").iterdir()) == ids[1:]
    assert sorted(p.name for p in brand.iterdir()) == ["2025-11"]  # nothing left aside
    assert not (current / ".complete").exists()
    assert prune_runs(current, 1) == ids[1:3]


POINTS = ["publish:built", "publish:swapped", "publish:history-moved", "publish:kept"]


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
@pytest.mark.parametrize("point", [*POINTS, "publish:between-renames"])
def test_sigkill_at_any_point_of_publishing_loses_nothing(tmp_path, point, exchange):
    if exchange and point == "publish:between-renames":
        pytest.skip("the exchange has no moment between two renames")
    brand = tmp_path / "aurora"
    current = brand / "2025-11"
    old_id, new_id = "20261201T060000-aaaaaa", "20261202T060000-bbbbbb"
    publish_run(_report(brand / f".staging-2025-11-{old_id}", "old"), current, old_id)
    before = _snapshot(current)
    staging = _report(brand / f".staging-2025-11-{new_id}", "new")
    new = _snapshot(staging)
    code = textwrap.dedent(
        f"""
        from pathlib import Path
        from kpitools.runs import publish_run
        publish_run(Path({str(staging)!r}), Path({str(current)!r}), {new_id!r})
        """
    )
    env = {**os.environ, KILL_ENV: point, "PYTHONPATH": str(ROOT)}
    if not exchange:
        env[NO_EXCHANGE_ENV] = "1"
    proc = subprocess.run([sys.executable, "-c", code], env=env, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    # at the moment of the kill: a complete current folder, the old report or the new one
    if point == "publish:between-renames":
        assert not current.exists()  # the one moment the fallback has; repaired below
    else:
        seen = _snapshot(current)
        seen.pop(".complete", None)
        assert seen == (before if point == "publish:built" else new)
    notes = recover_brand(brand)  # what the next run does first, under the lock
    seen = _snapshot(current)
    assert seen in (before, new) and ".complete" not in seen
    assert sorted(p.name for p in brand.iterdir()) == ["2025-11"], notes
    kept = sorted(p.name for p in (current / "runs").iterdir())
    # the previous report is always restorable, byte-identical, from its kept copy
    assert old_id in kept and _snapshot(current / "runs" / old_id) == before
    if seen == new:
        assert kept == [old_id, new_id] and _snapshot(current / "runs" / new_id) == new
    else:
        assert kept == [old_id]


def test_recovery_removes_staging_folders_of_dead_runs(tmp_path):
    brand = tmp_path / "aurora"
    _report(brand / ".staging-2025-11-20261202T060000-cccccc", "half")
    (brand / ".publish-2025-10-20261202T060000-dddddd").mkdir()  # killed while linking
    notes = recover_brand(brand)
    assert list(brand.iterdir()) == []
    assert any(".staging-2025-11-20261202T060000-cccccc" in n for n in notes)


def _hold_lock(reports: Path) -> subprocess.Popen:
    code = textwrap.dedent(
        f"""
        import sys, time
        from kpitools.runs import ReportsLock
        with ReportsLock({str(reports)!r}):
            print("held", flush=True)
            time.sleep(float(sys.argv[1]))
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "3"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_run_is_told_who_holds_the_lock_or_waits_for_it(tmp_path):
    reports = tmp_path / "reports"
    holder = _hold_lock(reports)
    try:
        with pytest.raises(RunLockedError) as err:
            ReportsLock(reports).acquire()
        msg = str(err.value)
        assert f"another run holds {reports / '.lock'} (pid {holder.pid}, started 20" in msg
        assert "--wait SECONDS" in msg
        t0 = time.monotonic()
        with ReportsLock(reports, wait=60):  # the holder lets go after 3 s
            assert time.monotonic() - t0 < 30
            assert json.loads((reports / ".lock").read_text())["pid"] == os.getpid()
    finally:
        holder.wait(timeout=30)


def test_a_lock_of_a_killed_run_does_not_block(tmp_path):
    reports = tmp_path / "reports"
    holder = _hold_lock(reports)
    holder.kill()
    holder.wait(timeout=30)
    with ReportsLock(reports):  # the kernel released the dead process' lock
        pass


def test_an_unwritable_reports_folder_is_one_line(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / "reports" / ".lock"))

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(ReportsFolderError) as err:
        ReportsLock(tmp_path / "reports").acquire()
    assert str(err.value) == (
        f"cannot write {tmp_path / 'reports' / '.lock'}: permission denied: make it writable "
        "for this user or pass --reports-dir DIR"
    )


def test_os_error_line_names_the_file_the_folder_and_the_cause():
    exc = OSError(28, "No space left on device", "/srv/reports/aurora/.staging-x/report.html.tmp")
    assert os_error_line(exc, "/srv/reports") == (
        "cannot write /srv/reports/aurora/.staging-x/report.html.tmp: no space left on device: "
        "free some space and rerun"
    )
    exc = OSError(30, "Read-only file system", None)
    assert os_error_line(exc, "/srv/reports").startswith(
        "cannot write /srv/reports: read-only file system"
    )


def test_a_full_disk_inside_a_notebook_is_one_line_not_the_notebooks_fault():
    from kpitools.runner import _disk_error

    exc = RuntimeError("cell failed")
    exc.ename = "OSError"  # type: ignore[attr-defined]
    exc.evalue = "[Errno 28] No space left on device: '/srv/reports/a/.staging-x/kpis.json.tmp'"  # type: ignore[attr-defined]
    disk = _disk_error(exc)
    assert disk is not None
    assert os_error_line(disk, "/srv/reports") == (
        "cannot write /srv/reports/a/.staging-x/kpis.json.tmp: no space left on device: "
        "free some space and rerun"
    )
    exc.evalue = "[Errno 2] No such file or directory: 'x.csv'"  # type: ignore[attr-defined]
    assert _disk_error(exc) is None


def test_a_report_published_before_run_copies_is_kept_as_a_copy(tmp_path):
    brand = tmp_path / "aurora"
    current = _report(brand / "2025-11", "legacy")  # no runs/: published by kpitools < 13
    before = _snapshot(current)
    rid = "20261202T060000-bbbbbb"
    publish_run(_report(brand / f".staging-2025-11-{rid}", "new"), current, rid)
    names = {p.name for p in (current / "runs").iterdir()}
    [legacy] = names - {rid}
    assert legacy.endswith("-legacy") and rid in names
    assert _snapshot(current / "runs" / legacy) == before
    assert sorted(p.name for p in brand.iterdir()) == ["2025-11"]
