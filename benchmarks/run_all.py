"""Run every benchmark of issue 14 and regenerate docs/benchmarks.md from the results.

Sections (each in its own subprocesses; a failing section is recorded with its error and the
others still run):

``demo``      ``kpitools demo-data`` at each size (the databases are cached in data/bench/).
``scorecard`` ``benchmarks/bench_scorecard.py`` (kpitools vs pandas vs hand SQL, cross-checked).
``lift``      ``benchmarks/bench_lift.py``: ``estimate_lift`` lin HC2 vs statsmodels OLS HC2.
``clv``       ``benchmarks/bench_clv.py``: BG/NBD + Gamma-Gamma fit, 100 000 customers.
``e2e``       one demo brand's three reports vs a bare papermill run of the same imports ×3.
``brands``    N copies of a demo brand, ``kpitools run --all -j 2``, warm and (if the CLI has
              ``--cold``) cold; CPU seconds per brand over the whole process tree.

Results: benchmarks/results/<date>.json (ignored by git); docs/benchmarks.md is rewritten.

Usage::

    python benchmarks/run_all.py            # full: 100 000 and 1 000 000 customers, N = 24
    python benchmarks/run_all.py --quick    # 100 000 only, N = 4, one repeat
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
DEMO_DB = ROOT / "data" / "demo.duckdb"
CACHE = ROOT / "data" / "bench"
RESULTS = ROOT / "benchmarks" / "results"
DOC = ROOT / "docs" / "benchmarks.md"

#: (name, what is compared, limit, "max" = ratio must be at most limit, "min" = at least)
TARGETS = {
    "scorecard_vs_sql": ("kpitools / hand SQL (CPU)", 1.2, "max"),
    "pandas_vs_scorecard": ("pandas / kpitools (CPU)", 5.0, "min"),
    "scorecard_peak_mb": ("kpitools peak RSS increase (MiB)", 1024.0, "max"),
    "e2e_vs_papermill": ("three reports / bare papermill ×3 (wall)", 1.5, "max"),
    "brands_100_minutes": ("100 brands extrapolated (minutes, warm)", 5.0, "max"),
    "lift_vs_statsmodels": ("estimate_lift / statsmodels (CPU)", 1.3, "max"),
}


# ---------------------------------------------------------------------------------------------
# pure helpers (tested in tests/test_benchmarks.py)


def ratio(num: float | None, den: float | None) -> float | None:
    """``num / den``, None when either is missing or ``den`` is not positive."""
    if num is None or den is None or den <= 0:
        return None
    return num / den


def judge(name: str, value: float | None) -> str:
    """ "met", "missed" or "n/a" for the target ``name`` of :data:`TARGETS`."""
    if value is None:
        return "n/a"
    _, limit, kind = TARGETS[name]
    ok = value <= limit if kind == "max" else value >= limit
    return "met" if ok else "missed"


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    """True when ``a`` and ``b`` agree to ``rel`` (relative; both NaN counts as agreeing)."""
    if a != a and b != b:
        return True
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


def extrapolate_minutes(wall_s: float, n: int, target_n: int = 100) -> float:
    """Wall minutes for ``target_n`` brands from ``wall_s`` seconds for ``n`` (linear)."""
    return wall_s / n * target_n / 60.0


def table(header: list[str], rows: list[list]) -> str:
    """A Markdown table; floats with 3 significant decimals, None as "–"."""

    def cell(x) -> str:
        if x is None:
            return "–"
        if isinstance(x, float):
            return f"{x:.3g}" if abs(x) < 100 else f"{x:,.0f}"
        return str(x)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# running


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _run(cmd: list[str], timeout: float, cwd: Path = ROOT) -> tuple[float, float, str]:
    """Run ``cmd``; (wall s, CPU s of the process tree, stdout). Raises on failure."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"{' '.join(cmd[:4])} exited {proc.returncode}: " + " / ".join(tail))
    return wall, cpu, proc.stdout


def _last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def demo_db(customers: int, timings: dict) -> Path:
    """The cached demo database of ``customers`` customers (generated and timed if absent)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"demo-{customers}.duckdb"
    if not path.is_file():
        wall, cpu, _ = _run(
            [
                PY,
                "-m",
                "kpitools.cli",
                "demo-data",
                "--out",
                str(path),
                "--customers",
                str(customers),
            ],
            timeout=1800,
        )
        timings[str(customers)] = {"wall_s": wall, "cpu_s": cpu}
    else:
        timings.setdefault(str(customers), {"cached": True})
    return path


def section_demo(sizes, quick, out):
    timings: dict = {}
    for n in sizes:
        demo_db(n, timings)
    return timings


def section_scorecard(sizes, quick, out):
    """``bench_scorecard.py`` on each size: the KPI sets three ways and the full scorecard."""
    res = {}
    for n in sizes:
        db = demo_db(n, out.setdefault("demo", {}))
        repeat = 1 if quick or n >= 1_000_000 else 3
        jpath = RESULTS / f"scorecard-{n}.json"
        _run(
            [
                PY,
                str(ROOT / "benchmarks" / "bench_scorecard.py"),
                "--db",
                str(db),
                "--repeat",
                str(repeat),
                "--out",
                str(jpath),
                # the tracemalloc run of the 7 processes costs minutes at 1M customers
                *(["--no-heap"] if n >= 1_000_000 else []),
            ],
            timeout=3600,
        )
        doc = json.loads(jpath.read_text())
        res[str(n)] = {
            "summary": doc["summary"],
            "kpi_sets": doc["kpi_sets"],
            "departments": doc.get("departments", {}),
            "methods": doc["methods"],
            "repeat": repeat,
        }
    return res


def section_lift(sizes, quick, out):
    n = 100_000 if quick else 1_000_000
    _, _, stdout = _run(
        [
            PY,
            str(ROOT / "benchmarks" / "bench_lift.py"),
            "--members",
            str(n),
            "--repeat",
            "2" if quick else "3",
        ],
        timeout=900,
    )
    return _last_json(stdout)


def section_clv(sizes, quick, out):
    _, _, stdout = _run(
        [
            PY,
            str(ROOT / "benchmarks" / "bench_clv.py"),
            "--customers",
            "100000",
            "--repeat",
            "1" if quick else "3",
        ],
        timeout=900,
    )
    return _last_json(stdout)


def _project(tmp: Path, copies: int) -> Path:
    """A project in ``tmp``: ``copies`` copies of params/aurora.yaml pointing at the demo db.

    Each copy reads aurora's rows (the demo has three brands) and is its own report: the
    reports folder of a params file is named after the file (``brand007/``)."""
    pdir = tmp / "params"
    pdir.mkdir(parents=True)
    text = (ROOT / "params" / "aurora.yaml").read_text()
    text = text.replace("../data/demo.duckdb", str(DEMO_DB))
    for i in range(copies):
        slug = "aurora" if copies == 1 else f"brand{i:03d}"
        (pdir / f"{slug}.yaml").write_text(text)
    return pdir


IMPORTS_CELL = (
    "import pandas, numpy, matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot\n"
    "import ibis, duckdb\nimport kpitools\n"
)


def _bare_notebooks(tmp: Path) -> list[Path]:
    import nbformat

    paths = []
    for i in range(3):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(IMPORTS_CELL)]
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        p = tmp / f"bare{i}.ipynb"
        nbformat.write(nb, p)
        paths.append(p)
    return paths


def section_e2e(sizes, quick, out):
    repeat = 1 if quick else 2
    with tempfile.TemporaryDirectory(prefix="kpibench-") as t:
        tmp = Path(t)
        pdir = _project(tmp / "proj", 1)
        bare = _bare_notebooks(tmp)
        runs: dict = {"kpitools": [], "papermill": []}
        for r in range(repeat):
            rep = tmp / f"reports{r}"
            w, c, _ = _run(
                [
                    PY,
                    "-m",
                    "kpitools.cli",
                    "run",
                    str(pdir / "aurora.yaml"),
                    "--reports-dir",
                    str(rep),
                    "--notebooks-dir",
                    str(ROOT / "notebooks"),
                ],
                timeout=900,
                cwd=tmp / "proj",
            )
            runs["kpitools"].append({"wall_s": w, "cpu_s": c})
            w0 = c0 = 0.0
            for nb in bare:
                w, c, _ = _run(
                    [
                        PY,
                        "-m",
                        "papermill",
                        "-k",
                        "python3",
                        str(nb),
                        str(nb.with_suffix(".out.ipynb")),
                    ],
                    timeout=300,
                )
                w0, c0 = w0 + w, c0 + c
            runs["papermill"].append({"wall_s": w0, "cpu_s": c0})
    med = {
        k: {f: sorted(x[f] for x in v)[len(v) // 2] for f in ("wall_s", "cpu_s")}
        for k, v in runs.items()
    }
    return {"repeat": repeat, "runs": runs, "median": med}


def section_brands(sizes, quick, out):
    n = 4 if quick else 24
    help_text = _run([PY, "-m", "kpitools.cli", "run", "--help"], timeout=120)[2]
    arms = ["warm"] + (["cold"] if "--cold" in help_text else [])
    res: dict = {"n": n, "jobs": 2}
    if "cold" not in arms:
        res["cold"] = {"skipped": "this kpitools run has no --cold flag"}
    for arm in arms:
        with tempfile.TemporaryDirectory(prefix="kpibench-") as t:
            tmp = Path(t)
            pdir = _project(tmp, n)
            cmd = [
                PY,
                "-m",
                "kpitools.cli",
                "run",
                "--all",
                "--params-dir",
                str(pdir),
                "-j",
                "2",
                "--reports-dir",
                str(tmp / "reports"),
                "--notebooks-dir",
                str(ROOT / "notebooks"),
            ]
            if arm == "cold":
                cmd.append("--cold")
            w, c, _ = _run(cmd, timeout=3600, cwd=tmp)
            res[arm] = {
                "wall_s": w,
                "cpu_s": c,
                "cpu_s_per_brand": c / n,
                "wall_s_per_brand": w / n,
                "minutes_for_100": extrapolate_minutes(w, n),
            }
    return res


SECTIONS = {
    "demo": section_demo,
    "scorecard": section_scorecard,
    "lift": section_lift,
    "clv": section_clv,
    "e2e": section_e2e,
    "brands": section_brands,
}


# ---------------------------------------------------------------------------------------------
# machine and rendering


def machine() -> dict:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = None
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": ram,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def versions() -> dict:
    out = {}
    for name in (
        "kpitools",
        "duckdb",
        "ibis-framework",
        "pandas",
        "numpy",
        "statsmodels",
        "papermill",
        "scipy",
    ):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def render(doc: dict) -> str:
    """docs/benchmarks.md from one results document."""
    s = doc["sections"]
    m = doc["machine"]
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `{doc['command']}` on {doc['started']} (UTC) in "
        f"{doc['duration_s'] / 60:.1f} minutes; do not edit by hand.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, "
        + (f"{m['ram_gib']:.1f} GiB RAM" if m.get("ram_gib") else "RAM unknown")
        + f", {m['platform']}, Python {m['python']}. Load average (1 min) "
        f"{doc['load_start'][0]:.2f} at the start, {doc['load_end'][0]:.2f} at the end: "
        "wall times are only comparable on an otherwise idle machine; CPU ratios are trusted "
        "over wall ratios.",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in doc["versions"].items() if v) + ".",
        "",
    ]
    verdicts: list[list] = []

    def failed(name: str) -> bool:
        sec = s.get(name)
        if sec is None:
            lines.extend(["Not run in this run.", ""])
            return True
        if "error" in sec:
            lines.extend([f"**Failed**: {sec['error']}", ""])
            return True
        return False

    lines += ["## Demo generation (`kpitools demo-data`)", ""]
    if not failed("demo"):
        rows = [
            [
                f"{int(k):,}",
                v.get("wall_s"),
                v.get("cpu_s"),
                "cached (not timed)" if v.get("cached") else "",
            ]
            for k, v in s["demo"].items()
        ]
        lines += [table(["customers", "wall s", "CPU s", "note"], rows), ""]

    lines += [
        "## Scorecard: kpitools vs hand-written SQL vs pandas",
        "",
        "`benchmarks/bench_scorecard.py`: the same brand, period and KPIs three ways, "
        "each (method, KPI set) in its own process, runs interleaved, numbers (value, previous, "
        "year-ago, 12-period trend) cross-checked to 1e-9; CPU time of the process (DuckDB's "
        "threads included), peak RSS increase over the imports. The full scorecard (every KPI "
        "of the registry) is kpitools alone.",
        "",
    ]
    if not failed("scorecard"):
        rows, full_rows = [], []
        sets_seen: dict[str, list[str]] = {}
        for n, r in s["scorecard"].items():
            summ = r["summary"]
            sets_seen.update(r.get("kpi_sets", {}))
            for name, v in summ["sets"].items():
                rows.append(
                    [
                        f"{int(n):,}",
                        f"{name} ({v['kpis']})",
                        v["kpitools_cpu_s"],
                        v["sql_cpu_s"],
                        v["pandas_cpu_s"],
                        v["kpitools_vs_sql_cpu"],
                        v["pandas_vs_kpitools_cpu"],
                        v["kpitools_peak_mb"],
                        v["pandas_peak_mb"],
                    ]
                )
            f = summ.get("full")
            if f:
                full_rows.append(
                    [f"{int(n):,}", f["kpis"], f["queries"], f["cpu_s"], f["wall_s"], f["peak_mb"]]
                )
            if int(n) >= 1_000_000 or len(s["scorecard"]) == 1:
                dep = summ["sets"].get("departments") or next(iter(summ["sets"].values()))
                on = f"{int(n):,} ({dep['kpis']} KPIs)"
                verdicts += [
                    ["scorecard_vs_sql", on, dep["kpitools_vs_sql_cpu"]],
                    ["pandas_vs_scorecard", on, dep["pandas_vs_kpitools_cpu"]],
                    ["scorecard_peak_mb", f"{int(n):,} (full)", f["peak_mb"] if f else None],
                ]
        lines += [
            table(
                [
                    "customers",
                    "KPI set",
                    "kpitools CPU s",
                    "SQL CPU s",
                    "pandas CPU s",
                    "kpitools/SQL",
                    "pandas/kpitools",
                    "kpitools peak MiB",
                    "pandas peak MiB",
                ],
                rows,
            ),
            "",
        ]
        if full_rows:
            lines += [
                "Full scorecard (kpitools):",
                "",
                table(
                    ["customers", "KPIs", "queries", "CPU s", "wall s", "peak RSS Δ MiB"],
                    full_rows,
                ),
                "",
            ]
        deps = {}
        for r in s["scorecard"].values():
            deps.update(r.get("departments", {}))
        for name, ids in sets_seen.items():
            lines += [
                f"KPI set `{name}`: "
                + ", ".join(f"`{k}`" + (f" ({deps[k]})" if k in deps else "") for k in ids)
                + ".",
                "",
            ]

    lines += ["## estimate_lift (lin, HC2, 5 covariates) vs statsmodels OLS HC2", ""]
    if not failed("lift"):
        r = s["lift"]
        rr = ratio(r["kpitools"]["cpu_s"], r["statsmodels"]["cpu_s"])
        lines += [
            table(
                [
                    "members",
                    "kpitools CPU s",
                    "statsmodels CPU s",
                    "kpitools wall s",
                    "statsmodels wall s",
                    "ratio (CPU)",
                    "max rel. diff (effect, se)",
                ],
                [
                    [
                        f"{r['n']:,}",
                        r["kpitools"]["cpu_s"],
                        r["statsmodels"]["cpu_s"],
                        r["kpitools"]["wall_s"],
                        r["statsmodels"]["wall_s"],
                        rr,
                        f"{r['max_rel_diff']:.1e}",
                    ]
                ],
            ),
            "",
        ]
        verdicts.append(["lift_vs_statsmodels", f"{r['n']:,}", rr])

    lines += ["## CLV fit (BG/NBD + Gamma-Gamma), simulated customers", ""]
    if not failed("clv"):
        r = s["clv"]

        def params(d: dict) -> str:
            return ", ".join(f"{k}={v:.4g}" for k, v in d.items())

        rows = [
            [
                "kpitools",
                r["kpitools"]["bgnbd_cpu_s"],
                r["kpitools"]["gamma_gamma_cpu_s"],
                params(r["kpitools"]["bgnbd"]),
                params(r["kpitools"].get("gamma_gamma", {})),
                "",
            ]
        ]
        lt = r.get("lifetimes", {})
        if "skipped" in lt:
            rows.append(["lifetimes", None, None, lt["skipped"], "", ""])
        else:
            diff = [lt.get("bgnbd_max_rel_diff"), lt.get("gamma_gamma_max_rel_diff")]
            rows.append(
                [
                    "lifetimes",
                    lt["bgnbd_cpu_s"],
                    lt["gamma_gamma_cpu_s"],
                    params(lt["bgnbd"]),
                    params(lt.get("gamma_gamma", {})),
                    " / ".join("–" if d is None else f"{d:.1e}" for d in diff),
                ]
            )
        lines += [
            f"{r['customers']:,} customers"
            + (f" ({r['repeat_buyers']:,} repeat buyers)" if "repeat_buyers" in r else "")
            + (f", median of {r['repeat']} fits after a warm-up" if "repeat" in r else "")
            + "; CPU seconds.",
            "",
            table(
                [
                    "library",
                    "BG/NBD CPU s",
                    "Gamma-Gamma CPU s",
                    "BG/NBD parameters",
                    "Gamma-Gamma parameters",
                    "max rel. diff (BG/NBD / GG)",
                ],
                rows,
            ),
            "",
        ]

    lines += ["## One brand's three reports vs bare papermill of the same imports ×3", ""]
    if not failed("e2e"):
        md = s["e2e"]["median"]
        rr = ratio(md["kpitools"]["wall_s"], md["papermill"]["wall_s"])
        lines += [
            table(
                ["method", "wall s", "CPU s (process tree)"],
                [
                    [
                        "kpitools run (aurora, 20 k demo)",
                        md["kpitools"]["wall_s"],
                        md["kpitools"]["cpu_s"],
                    ],
                    ["bare papermill ×3", md["papermill"]["wall_s"], md["papermill"]["cpu_s"]],
                ],
            ),
            "",
            f"Ratio (wall, median of {s['e2e']['repeat']}): " + (f"{rr:.2f}×" if rr else "–"),
            "",
        ]
        verdicts.append(["e2e_vs_papermill", "20 000", rr])

    lines += ["## N brands, `kpitools run --all -j 2`", ""]
    if not failed("brands"):
        r = s["brands"]
        rows = []
        for arm in ("warm", "cold"):
            a = r.get(arm, {})
            if "skipped" in a:
                rows.append([arm, None, None, None, a["skipped"]])
            elif a:
                rows.append([arm, a["wall_s"], a["cpu_s_per_brand"], a["minutes_for_100"], ""])
        lines += [
            f"{r['n']} copies of the aurora demo params (20 k customers, same database).",
            "",
            table(["arm", "wall s", "CPU s per brand", "100 brands (min)", "note"], rows),
            "",
        ]
        if "wall_s" in r.get("warm", {}):
            verdicts.append(
                ["brands_100_minutes", f"{r['n']} brands", r["warm"]["minutes_for_100"]]
            )

    lines[len(lines) :] = []
    summary = [
        "## Targets",
        "",
        table(
            ["target", "measured on", "value", "limit", "verdict"],
            [
                [
                    TARGETS[name][0],
                    on,
                    val,
                    ("≤ " if TARGETS[name][2] == "max" else "≥ ") + f"{TARGETS[name][1]:g}",
                    judge(name, val),
                ]
                for name, on, val in verdicts
            ],
        ),
        "",
        "Where a brand's time goes and what limits each target that is missed, measured step "
        "by step: [docs/performance.md](performance.md).",
        "",
    ]
    head = lines[:8]
    return "\n".join(head + summary + lines[8:]) + "\n"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="100 000 customers only, N = 4")
    p.add_argument(
        "--sections", default=",".join(SECTIONS), help="comma-separated sections (default: all)"
    )
    p.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    sizes = [100_000] if args.quick else [100_000, 1_000_000]
    started = datetime.now(UTC)
    doc: dict = {
        "command": "make benchmark" + (" QUICK=1" if args.quick else ""),
        "started": started.strftime("%Y-%m-%d %H:%M"),
        "quick": args.quick,
        "machine": machine(),
        "versions": versions(),
        "load_start": os.getloadavg(),
        "sections": {},
    }
    t0 = time.perf_counter()
    for name in args.sections.split(","):
        print(f"[{datetime.now():%H:%M:%S}] {name} ...", flush=True)
        try:
            doc["sections"][name] = SECTIONS[name](sizes, args.quick, doc["sections"])
        except Exception as exc:  # one section's failure must not lose the others
            doc["sections"][name] = {"error": f"{type(exc).__name__}: {exc}"}
            print(f"  {name} FAILED: {exc}", file=sys.stderr, flush=True)
    doc["duration_s"] = time.perf_counter() - t0
    doc["load_end"] = os.getloadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{started:%Y-%m-%d-%H%M}{'-quick' if args.quick else ''}.json"
    out.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    print(f"wrote {out}")
    if not args.no_doc:
        DOC.write_text(render(doc))
        print(f"wrote {DOC}")
    return 1 if any("error" in v for v in doc["sections"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
