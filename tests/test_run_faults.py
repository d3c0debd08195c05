"""`kpitools run` under faults: reruns and history, exit codes, the lock, SIGKILL while
publishing, SIGTERM with a worker running, a full disk and a read-only reports folder.

A real run (spawned workers, papermill kernels, HTML export, publishing, runs.jsonl, index) of a
one-cell report notebook written here, so that each case takes seconds; the shipped notebooks
are run by tests/test_runner.py.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
import yaml

from kpitools.runs import KILL_ENV, read_runs

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e

REPORT_CELL = """\
import json, os, time
from kpitools.data.provenance import compute_provenance
from kpitools.data.sources import connect
from kpitools.params import load_params
params = load_params(params_path)
with connect(params) as db:
    prov = compute_provenance(
        params, db, params_path=params_path, run_id=run_id, started_at=run_started_at
    )
time.sleep(float(os.environ.get("KPITOOLS_TEST_NB_SLEEP", "0")))
doc = {"period": period, "kpis": {"revenue": {"value": 7.0}}, "provenance": prov.to_dict()}
with open(kpis_path, "w") as fh:
    json.dump(doc, fh)
print("report of", params.slug, period, run_id)
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project folder readable by every user: params/, notebooks/, data/demo.duckdb."""
    from kpitools.data.demo import generate_demo

    root = Path(tempfile.mkdtemp(prefix="kpitools-faults-"))
    os.chmod(root, 0o755)
    (root / "data").mkdir()
    generate_demo(root / "data" / "demo.duckdb", customers=300, seed=3)
    nb = nbformat.v4.new_notebook()
    params_cell = nbformat.v4.new_code_cell(
        "params_path = None\nperiod = None\nkpis_path = None\nrun_id = None\nrun_started_at = None"
    )
    params_cell.metadata["tags"] = ["parameters"]
    nb.cells = [params_cell, nbformat.v4.new_code_cell(REPORT_CELL)]
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    (root / "notebooks").mkdir()
    nbformat.write(nb, root / "notebooks" / "tiny.ipynb")
    data = yaml.safe_load((ROOT / "params" / "aurora.yaml").read_text())
    data["source"]["path"] = "../data/demo.duckdb"
    data["report"] = {"notebooks": [str(root / "notebooks" / "tiny.ipynb")], "keep_runs": 2}
    data["period"] = {**data.get("period", {}), "current": "2025-06"}
    (root / "params").mkdir()
    (root / "params" / "aurora.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    for p in root.rglob("*"):
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _run(project: Path, reports: Path, *args: str, env: dict | None = None, user=None, **kw):
    cmd = [sys.executable, "-m", "kpitools.cli", "run", str(project / "params" / "aurora.yaml")]
    cmd += ["--reports-dir", str(reports), "--no-pdf", "-j", "1", *args]
    if user:
        cmd = ["runuser", "-u", user, "--", *cmd]
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(cmd, env=full, capture_output=True, text=True, timeout=600, **kw)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def _no_traceback(proc) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def test_rerun_keeps_the_earlier_run_history_lists_both_and_reports_carry_provenance(
    project, tmp_path
):
    reports = tmp_path / "reports"
    first = _run(project, reports)
    assert first.returncode == 0, first.stdout + first.stderr
    second = _run(project, reports)
    assert second.returncode == 0, second.stdout + second.stderr
    runs = read_runs(reports)
    assert [r.status for r in runs] == ["ok", "ok"]
    a, b = runs
    assert a.run_id < b.run_id and a.batch_id != b.batch_id
    assert a.period == b.period == "2025-06"  # the params' period.current
    assert a.params_file == "params/aurora.yaml" or a.params_file.endswith("aurora.yaml")
    assert a.report_dir == "aurora/2025-06" and b.run_dir == f"aurora/2025-06/runs/{b.run_id}"
    assert "aurora/2025-06/kpis.json" in b.outputs and b.headline == {"revenue": 7.0}
    assert b.notebooks == {"report": "ok"} and b.log == "_logs/aurora.log"
    assert a.data_fingerprint == b.data_fingerprint and len(a.data_fingerprint or "") == 64
    current = reports / "aurora" / "2025-06"
    assert sorted(p.name for p in (current / "runs").iterdir()) == [a.run_id, b.run_id]
    assert _snapshot(current) == _snapshot(current / "runs" / b.run_id)
    prov = json.loads((current / "kpis.json").read_text())["provenance"]
    assert prov["run_id"] == b.run_id and prov["started_at"] == b.started_at
    assert prov["params_file"] == "aurora.yaml" and prov["params_sha256"] == b.params_sha256
    assert prov["source"] == "duckdb:../data/demo.duckdb"  # relative, never absolute
    assert str(project) not in json.dumps(prov)
    assert prov["tables"]["orders"]["rows"] > 0 and prov["tables"]["orders"]["latest"] >= "2025"
    # history lists both runs of the period, the current one marked
    hist = subprocess.run(
        [sys.executable, "-m", "kpitools.cli", "history", "aurora", "--reports-dir", str(reports)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert hist.returncode == 0, hist.stderr
    lines = hist.stdout.splitlines()
    assert lines[0].split()[:3] == ["period", "run", "id"]
    assert [ln.split()[0] for ln in lines[1:]] == ["2025-06", "2025-06"]
    assert f"{a.run_id} " in lines[1] and f"{b.run_id}*" in lines[2] and " ok " in lines[2]
    # a third run prunes beyond report.keep_runs (2): the first copy goes, the reports stay
    assert _run(project, reports).returncode == 0
    kept = sorted(p.name for p in (current / "runs").iterdir())
    assert len(kept) == 2 and a.run_id not in kept
    # --keep-runs overrides the params
    assert _run(project, reports, "--keep-runs", "1").returncode == 0
    assert len(list((current / "runs").iterdir())) == 1


def test_period_last_complete_and_exit_codes(project, tmp_path):
    reports = tmp_path / "reports"
    proc = _run(project, reports, "--period", "last-complete")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [rec] = read_runs(reports)
    assert rec.period == "2025-12"  # the demo's last complete month, not period.current
    # nothing published: exit 2; one brand of two failing: exit 1 (tests/test_runner.py)
    bad = tmp_path / "params" / "broken.yaml"
    bad.parent.mkdir()
    bad.write_text("brand: x\nsource: {path: nowhere.duckdb}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "kpitools.cli", "run", str(bad), "--reports-dir", str(reports)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 2 and "0 ok, 1 failed" in proc.stdout
    _no_traceback(proc)
    last = read_runs(reports)[-1]
    assert last.status == "failed" and last.period is None and "nowhere.duckdb" in last.error


def test_a_second_run_at_once_is_refused_with_the_holder_named(project, tmp_path):
    reports = tmp_path / "reports"
    env = {"KPITOOLS_TEST_NB_SLEEP": "20"}
    full = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    cmd = [sys.executable, "-m", "kpitools.cli", "run", str(project / "params" / "aurora.yaml")]
    cmd += ["--reports-dir", str(reports), "--no-pdf", "-j", "1"]
    first = subprocess.Popen(cmd, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not list((reports / "aurora").glob(".staging-*")) and time.monotonic() < deadline:
            time.sleep(0.5)
        second = _run(project, reports)
        assert second.returncode == 2
        assert second.stderr.strip() == (
            f"another run holds {reports.resolve() / '.lock'} (pid {first.pid}, started "
            + second.stderr.split("started ", 1)[1].split(")")[0]
            + "): let it finish, or pass --wait SECONDS"
        )
        _no_traceback(second)
        waited = _run(project, reports, "--wait", "300")  # waits, then runs after the first
        assert waited.returncode == 0, waited.stdout + waited.stderr
    finally:
        first.wait(timeout=300)
    assert first.returncode == 0
    runs = read_runs(reports)
    assert [r.status for r in runs] == ["ok", "ok"]
    assert runs[0].ended_at <= runs[1].started_at  # never interleaved


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.add(c)
            todo.append(c)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigterm_to_the_run_stops_its_workers_keeps_the_report_and_rebuilds_the_index(
    project, tmp_path
):
    reports = tmp_path / "reports"
    assert _run(project, reports).returncode == 0
    current = reports / "aurora" / "2025-06"
    before = _snapshot(current)
    index_before = (reports / "index.html").stat().st_mtime_ns
    cmd = [sys.executable, "-m", "kpitools.cli", "run", str(project / "params" / "aurora.yaml")]
    cmd += ["--reports-dir", str(reports), "--no-pdf", "-j", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KPITOOLS_TEST_NB_SLEEP": "60"}
    run = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list((reports / "aurora").glob(".staging-*")) and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(8)  # the kernel is up and sleeping in the report cell
    workers = _descendants(run.pid)
    assert workers, "no worker process"
    t0 = time.monotonic()
    run.send_signal(signal.SIGTERM)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 143, out + err
    assert time.monotonic() - t0 < 60
    assert "interrupted by SIGTERM: the last good reports are kept" in err
    assert "Traceback" not in out + err
    time.sleep(3)  # a kernel's parent poller notices within a second
    assert not [p for p in workers if _alive(p)], "worker or kernel left running"
    assert _snapshot(current) == before
    assert not list((reports / "aurora").glob(".staging-*"))
    last = read_runs(reports)[-1]
    assert last.status == "failed" and last.error == "interrupted by SIGTERM"
    assert (reports / "index.html").stat().st_mtime_ns > index_before
    time.sleep(2)
    assert _snapshot(current) == before  # no orphan publishing later


@pytest.mark.parametrize("point", ["publish:built", "publish:swapped", "publish:kept"])
def test_sigkill_while_publishing_leaves_a_complete_report_and_the_next_run_repairs(
    project, tmp_path, point
):
    reports = tmp_path / "reports"
    assert _run(project, reports).returncode == 0
    current = reports / "aurora" / "2025-06"
    before = _snapshot(current)
    [old] = read_runs(reports)
    killed = _run(project, reports, env={KILL_ENV: point})
    assert killed.returncode == 2
    assert "the brand's worker process died (signal 9)" in killed.stdout
    _no_traceback(killed)
    seen = _snapshot(current)
    seen.pop(".complete", None)
    if point == "publish:built":
        assert seen == before
    else:
        assert seen.keys() == before.keys() and seen != before  # the new one, complete
    dead = read_runs(reports)[-1]
    assert dead.status == "failed" and dead.run_id != old.run_id
    # the next run repairs first, then publishes (keeping every copy here)
    assert _run(project, reports, "--keep-runs", "5").returncode == 0
    left = sorted(p.name for p in (reports / "aurora").iterdir())
    assert "2025-06" in left and not [n for n in left if n.startswith(".")], left
    kept = sorted(p.name for p in (current / "runs").iterdir())
    assert old.run_id in kept and _snapshot(current / "runs" / old.run_id) == before
    if point != "publish:built":  # the killed run had published: its copy is kept too
        assert dead.run_id in kept and _snapshot(current / "runs" / dead.run_id) == seen
    assert len(kept) == (2 if point == "publish:built" else 3)


def test_a_full_disk_fails_with_one_line_and_keeps_the_last_good_report(project, tmp_path):
    """ENOSPC simulated in every process of the run (sitecustomize), on the HTML export."""
    reports = tmp_path / "reports"
    assert _run(project, reports).returncode == 0
    current = reports / "aurora" / "2025-06"
    before = _snapshot(current)
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        textwrap.dedent(
            """
            import errno, os, pathlib
            _write = pathlib.Path.write_text
            def write_text(self, *args, **kwargs):
                if ".staging-" in str(self) and str(self).endswith(".html.tmp"):
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
                return _write(self, *args, **kwargs)
            pathlib.Path.write_text = write_text
            """
        )
    )
    proc = _run(project, reports, env={"PYTHONPATH": f"{hook}{os.pathsep}{ROOT}"})
    assert proc.returncode == 2
    _no_traceback(proc)
    [line] = [ln for ln in proc.stdout.splitlines() if ln.startswith("aurora ")]
    assert "failed" in line and "no space left on device: free some space and rerun" in line
    assert f"cannot write {reports.resolve()}/aurora/.staging-2025-06-" in line
    assert "failed notebook" not in proc.stdout  # not the notebook's fault
    assert _snapshot(current) == before
    last = read_runs(reports)[-1]
    assert last.status == "failed" and last.failed_notebook is None


def test_a_really_full_tmpfs_fails_with_one_line(project, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)]).returncode:
        pytest.skip("mount -t tmpfs is not permitted here")
    try:
        reports = mnt / "reports"
        assert _run(project, reports).returncode == 0
        current = reports / "aurora" / "2025-06"
        before = _snapshot(current)
        with open(mnt / "filler", "wb", buffering=0) as fh:  # fill the disk to the last byte
            try:
                while True:
                    fh.write(b"\0" * 4096)
                    fh.flush()
            except OSError:
                pass
        proc = _run(project, reports)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        _no_traceback(proc)
        assert "no space left on device" in proc.stdout + proc.stderr
        assert _snapshot(current) == before
    finally:
        subprocess.run(["umount", str(mnt)])


def _nobody_can_run_python() -> bool:
    probe = subprocess.run(
        ["runuser", "-u", "nobody", "--", sys.executable, "-c", "pass"], capture_output=True
    )
    return probe.returncode == 0


def test_a_read_only_reports_folder_fails_with_one_line(project, tmp_path):
    """As a user: chmod. As root (who writes anyway): run as nobody when nobody can run this
    Python, else remount the reports folder read-only (a real EROFS)."""
    reports = tmp_path / "ro" / "reports"
    mounted = False
    try:
        if os.geteuid() == 0 and not _nobody_can_run_python():
            mounted = not subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(_mkdir(reports.parent))]
            ).returncode
            if not mounted:
                pytest.skip("root, nobody cannot run this Python and mount is not permitted")
        assert _run(project, reports).returncode == 0
        current = reports / "aurora" / "2025-06"
        before = _snapshot(current)
        user, cause = None, "permission denied: make it writable"
        if mounted:
            ro = ["mount", "-o", "remount,ro", str(reports.parent)]
            assert subprocess.run(ro).returncode == 0
            cause = "read-only file system: make it writable"
        elif os.geteuid() == 0:
            os.chmod(tmp_path, 0o755)
            os.chmod(tmp_path.parent, 0o755)
            user = "nobody"
        else:
            for p in [reports, *reports.rglob("*")]:
                p.chmod(0o555 if p.is_dir() else 0o444)
        proc = _run(project, reports, user=user, env={"HOME": "/tmp"})
        assert proc.returncode == 2, proc.stdout + proc.stderr
        _no_traceback(proc)
        assert proc.stdout == ""
        assert proc.stderr.strip() == (
            f"cannot write {reports.resolve() / '.lock'}: {cause} for this user or pass "
            "--reports-dir DIR"
        )
        assert _snapshot(current) == before
    finally:
        if mounted:
            subprocess.run(["umount", str(reports.parent)])
        for p in [tmp_path, *tmp_path.rglob("*")]:
            p.chmod(0o755)


def _mkdir(p: Path) -> Path:
    p.mkdir(parents=True, exist_ok=True)
    return p
