"""Warm workers (``kpitools run`` without ``--cold``): a kernel reused brand after brand with a
clean namespace, and faults that fail one brand only.

Real runs (spawned workers, a real Jupyter kernel, papermill, HTML export, publishing) of a
one-cell notebook written here that misbehaves on purpose according to the brand's file name:
``error`` raises, ``hang`` sleeps past the cell timeout, ``crash`` kills its own kernel,
``worker`` kills the worker process that owns the kernel.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
import yaml

from kpitools.runner import run_all
from kpitools.runs import read_runs

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e

REPORT_CELL = """\
import json, os, signal, time
from pathlib import Path
import matplotlib
slug = Path(params_path).stem
try:
    leaked = left_by_a_previous_brand
except NameError:
    leaked = None
left_by_a_previous_brand = slug
seen_rc = matplotlib.rcParams["lines.linewidth"]
matplotlib.rcParams["lines.linewidth"] = 9.5
seen_cwd = os.getcwd()
os.chdir("/")
if slug.startswith("error"):
    raise ValueError("boom in " + slug)
if slug.startswith("hang"):
    time.sleep(120)
if slug.startswith("crash"):
    os.kill(os.getpid(), signal.SIGKILL)
if slug.startswith("worker"):
    os.kill(os.getppid(), signal.SIGKILL)
    time.sleep(120)
doc = {"period": period, "kpis": {"revenue": {"value": 7.0}},
       "test": {"leaked": leaked, "kernel_pid": os.getpid(), "worker_pid": os.getppid(),
                "rc": seen_rc, "cwd": seen_cwd}}
with open(kpis_path, "w") as fh:
    json.dump(doc, fh)
"""

#: a figure shown the way the report notebooks show theirs (the inline backend, no display())
PLOT_CELL = """\
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(2, 1))
ax.plot([1, 2], [3, 4]);
"""


def make_project(root: Path, slugs: list[str]) -> Path:
    """A project with ``params/<slug>.yaml`` (the demo's aurora brand) and ``notebooks/tiny``."""
    from kpitools.data.demo import generate_demo

    (root / "data").mkdir(parents=True)
    generate_demo(root / "data" / "demo.duckdb", customers=300, seed=3)
    nb = nbformat.v4.new_notebook()
    params_cell = nbformat.v4.new_code_cell(
        "params_path = None\nperiod = None\nkpis_path = None\nrun_id = None\nrun_started_at = None"
    )
    params_cell.metadata["tags"] = ["parameters"]
    nb.cells = [
        params_cell,
        nbformat.v4.new_code_cell(REPORT_CELL),
        nbformat.v4.new_code_cell(PLOT_CELL),
    ]
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    (root / "notebooks").mkdir()
    nbformat.write(nb, root / "notebooks" / "tiny.ipynb")
    data = yaml.safe_load((ROOT / "params" / "aurora.yaml").read_text())
    data["source"]["path"] = "../data/demo.duckdb"
    data["report"] = {"notebooks": ["tiny.ipynb"], "keep_runs": 2}
    data["period"] = {**data.get("period", {}), "current": "2025-06"}
    (root / "params").mkdir()
    for slug in slugs:
        (root / "params" / f"{slug}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return root


@pytest.fixture
def project(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the kernels import this checkout
    root = Path(tempfile.mkdtemp(prefix="kpitools-workers-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _run(root: Path, slugs: list[str], **kw):
    make_project(root, slugs)
    files = [root / "params" / f"{s}.yaml" for s in slugs]
    results = run_all(files, reports_dir=root / "reports", pdf=False, progress=False, **kw)
    return {r.slug: r for r in results}


def _test_doc(root: Path, slug: str) -> dict:
    doc = json.loads((root / "reports" / slug / "2025-06" / "kpis.json").read_text())
    return doc["test"]


def test_one_kernel_is_reused_and_a_brand_never_sees_the_previous_brands_state(project):
    out = _run(project, ["alpha", "beta", "gamma"], jobs=1)
    assert [r.status for r in out.values()] == ["ok", "ok", "ok"], out
    docs = [_test_doc(project, s) for s in ("alpha", "beta", "gamma")]
    # the same kernel process ran the three brands (it is warm) …
    assert len({d["kernel_pid"] for d in docs}) == 1
    assert docs[0]["kernel_pid"] != os.getpid()
    # … yet alpha's variable is undefined in beta, its rcParams and chdir undone
    assert [d["leaked"] for d in docs] == [None, None, None]
    import matplotlib

    assert [d["rc"] for d in docs] == [matplotlib.rcParamsDefault["lines.linewidth"]] * 3
    assert {d["cwd"] for d in docs} == {str((project / "notebooks").resolve())}
    # and every brand's figure is in its report: the reset keeps the inline backend working
    for slug in ("alpha", "beta", "gamma"):
        page = (project / "reports" / slug / "2025-06" / "report.html").read_text()
        assert page.count("<img") == 1, slug
    logs = project / "reports" / "_logs"
    assert (logs / "alpha.log").is_file() and (logs / "gamma.log").is_file()
    assert "brand beta" in (logs / "worker-1.log").read_text()


def test_restart_every_n_brands_starts_a_new_kernel(project):
    _run(project, ["alpha", "beta", "gamma"], jobs=1, restart_every=2)
    pids = [_test_doc(project, s)["kernel_pid"] for s in ("alpha", "beta", "gamma")]
    assert pids[0] == pids[1] != pids[2]


def test_an_error_a_hung_cell_a_dead_kernel_and_a_dead_worker_fail_only_their_brand(project):
    """Through the command line, in its own process group: the "worker" brand kills its worker."""
    slugs = ["ok1", "error", "ok2", "hang", "ok3", "crash", "ok4", "worker", "ok5"]
    make_project(project, slugs)
    cmd = [sys.executable, "-m", "kpitools.cli", "run"]  # in this order (not --all's)
    cmd += [str(project / "params" / f"{s}.yaml") for s in slugs]
    cmd += ["--reports-dir", str(project / "reports")]
    cmd += ["--no-pdf", "-j", "1", "--cell-timeout", "4"]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, start_new_session=True)
    took = time.monotonic() - t0
    assert proc.returncode == 1, proc.stdout + proc.stderr  # some brands failed
    assert "Traceback" not in proc.stdout + proc.stderr
    assert took < 200, took  # the hung cell was stopped after 4 s, not after its 120 s
    out = {Path(r.params_file).stem: r for r in read_runs(project / "reports")}
    assert {s: out[s].status for s in slugs} == {
        s: "failed" if s in ("error", "hang", "crash", "worker") else "ok" for s in slugs
    }
    assert out["error"].error == "ValueError: boom in error"
    assert out["hang"].error == "cell 2 of tiny.ipynb ran over 4 s"
    assert out["crash"].error == (
        "the kernel died while running cell 2 of tiny.ipynb: a new kernel runs the next brand"
    )
    assert out["worker"].error == "the brand's worker process died (signal 9)"
    docs = {s: _test_doc(project, s) for s in slugs if s.startswith("ok")}
    pids = {s: d["kernel_pid"] for s, d in docs.items()}
    assert pids["ok1"] == pids["ok2"]  # a failing cell keeps the kernel
    assert pids["ok3"] != pids["ok2"]  # the hung kernel was replaced
    assert pids["ok4"] != pids["ok3"]  # so was the dead one
    assert docs["ok5"]["worker_pid"] != docs["ok4"]["worker_pid"]  # a new worker
    assert all(d["leaked"] is None for d in docs.values())
    for s in ("error", "hang", "crash", "worker"):  # no report published for them
        assert not (project / "reports" / s / "2025-06").exists()
    for s in ("error", "hang", "crash"):  # the worker recorded why
        assert json.loads((project / "reports" / s / "_failed" / "last.json").read_text())["error"]
    lines = (project / "reports" / "runs.jsonl").read_text().splitlines()
    assert len(lines) == len(slugs)
    time.sleep(2)  # no kernel or worker left running after the run
    pids = {d[k] for d in docs.values() for k in ("kernel_pid", "worker_pid")}
    assert not [p for p in pids if _alive(p)]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_cold_runs_a_fresh_kernel_per_brand(project):
    out = _run(project, ["alpha", "beta"], jobs=1, warm=False)
    assert [r.status for r in out.values()] == ["ok", "ok"]
    pids = [_test_doc(project, s)["kernel_pid"] for s in ("alpha", "beta")]
    assert pids[0] != pids[1]


#: parts of kpis.json that differ between any two runs (which run, when, how long)
RUN_FIELDS = {"provenance", "run_id", "run_started_at", "generated_at", "seconds"}


def _numbers(path: Path) -> dict:
    def strip(x):
        if isinstance(x, dict):
            return {
                k: strip(v)
                for k, v in x.items()
                if k not in RUN_FIELDS and not k.endswith("_seconds")  # timings
            }
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x

    return strip(json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.slow
def test_a_warm_kernel_that_ran_another_brand_publishes_the_same_report_as_a_fresh_one(
    tmp_path, monkeypatch
):
    """The demo's real notebooks: aurora run second in a kernel that just ran bellevue (a
    quarterly brand, other locale) gives the kpis.json and the figures of aurora in fresh
    kernels."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.chdir(ROOT)
    first, second = ROOT / "params" / "bellevue.yaml", ROOT / "params" / "aurora.yaml"
    kw = {"pdf": False, "progress": False, "jobs": 1}
    warm = run_all([first, second], reports_dir=tmp_path / "warm", **kw)
    cold = run_all([second], reports_dir=tmp_path / "cold", warm=False, **kw)
    assert [r.status for r in warm + cold] == ["ok", "ok", "ok"], [r.error for r in warm + cold]
    got = _numbers(Path(warm[1].report_dir) / "kpis.json")
    want = _numbers(Path(cold[0].report_dir) / "kpis.json")
    assert got["kpis"]
    diffs = _differences(got, want)
    assert not diffs, "\n".join(diffs)
    # every page has the figures a fresh kernel draws (the second brand's too)
    for name in ("report.html", "campaign-roi.html", "customer-value.html"):
        figures = (Path(cold[0].report_dir) / name).read_text().count("<img")
        assert figures > 0, name
        assert (Path(warm[1].report_dir) / name).read_text().count("<img") == figures, name


#: fitted by an optimiser: two runs of the same code differ in the 8th digit
FITTED = ("average_clv", "customer_equity", "clv")


def _differences(a, b, where: str = "") -> list[str]:
    """Where two kpis.json differ: exactly for text and structure, to 1e-9 relative for
    numbers (DuckDB's parallel float sums), 1e-6 under a fitted model's keys; 1e-7 absolute
    for numbers that are 0 but for rounding (a decomposition's residual of 1e-10)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{where}: keys {sorted(a.keys() ^ b.keys())}"]
        return [d for k in a for d in _differences(a[k], b[k], f"{where}/{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} items != {len(b)}"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _differences(x, y, f"{where}/{i}")
        ]
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool):
        rel = 1e-6 if any(f"/{k}" in where for k in FITTED) else 1e-9
        return [] if math.isclose(a, b, rel_tol=rel, abs_tol=1e-7) else [f"{where}: {a} != {b}"]
    return [] if a == b else [f"{where}: {a!r} != {b!r}"]
