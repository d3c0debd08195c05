"""Run history, the reports lock, and publishing that never loses the last good report.

Layout of a reports folder (``reports/``)::

    reports/
      .lock                        held (flock) by the one `kpitools run` writing here
      runs.jsonl                   one JSON line per brand attempt (:class:`RunRecord`)
      index.html
      _logs/<brand>.log            the last attempt's log of each params file
      <brand>/<period>/            the CURRENT report (the stable links): report.html, …
      <brand>/<period>/runs/<id>/  the kept copy of each of the period's last runs
      <brand>/_failed/             notebooks of failed attempts and last.json

Publishing (:func:`publish_run`) builds the new current folder beside the old one and swaps
the two with one ``renameat2(RENAME_EXCHANGE)`` (Linux), so no moment exists without a complete
current folder. Where the exchange is not available (another OS or file system) it falls back
to two renames, and :func:`recover_brand` (run at the start of every run, under the lock)
finishes or rolls back a publish a kill interrupted and removes the ``.staging-*`` and
``.publish-*`` folders of dead runs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import ReportsFolderError, RunLockedError

RUNS_FILE = "runs.jsonl"
LOCK_FILE = ".lock"
#: the marker written last into a ``.publish-*`` folder: its content is the run id
COMPLETE_MARKER = ".complete"
#: test hook: ``KPITOOLS_TEST_KILL_AT=<point>`` SIGKILLs the process at that point of publishing
KILL_ENV = "KPITOOLS_TEST_KILL_AT"
#: test hook: ``KPITOOLS_TEST_NO_EXCHANGE=1`` publishes with two renames (the fallback)
NO_EXCHANGE_ENV = "KPITOOLS_TEST_NO_EXCHANGE"


def utc_now() -> datetime:
    """Now, in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def new_run_id(now: datetime | None = None) -> str:
    """``20261202T063000-ab12cd``: UTC start time and 6 random hex digits (sortable, unique)."""
    now = now or utc_now()
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


@dataclass
class RunRecord:
    """One brand attempt, one line of ``reports/runs.jsonl`` (see docs/design.md)."""

    run_id: str
    batch_id: str
    params_file: str
    params_sha256: str | None = None
    brand: str | None = None
    name: str | None = None
    locale: str | None = None
    period: str | None = None
    grain: str | None = None
    data_fingerprint: str | None = None
    kpitools_version: str | None = None
    kpitools_commit: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    seconds: float = 0.0
    status: str = "failed"
    notebooks: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    report_dir: str | None = None
    run_dir: str | None = None
    outputs: list[str] = field(default_factory=list)
    failed_notebook: str | None = None
    log: str | None = None
    headline: dict[str, Any] | None = None
    objectives: dict[str, int] | None = None
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> RunRecord:
        """A record from a JSON object; unknown keys are ignored, missing ones take defaults."""
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in doc.items() if k in known}
        for key in ("run_id", "batch_id", "params_file"):
            kwargs.setdefault(key, "")
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of the record (every field, in the contract's order)."""
        return asdict(self)


def read_runs(reports_dir: str | os.PathLike) -> list[RunRecord]:
    """Every record of ``reports/runs.jsonl``, oldest first (none when the file is absent).

    A line that is not a JSON object (a last line truncated by a kill) is skipped.
    """
    path = Path(reports_dir) / RUNS_FILE
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    out = []
    for line in text.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict):
            out.append(RunRecord.from_dict(doc))
    return out


def append_run(reports_dir: str | os.PathLike, record: RunRecord) -> Path:
    """Append ``record`` as one line to ``reports/runs.jsonl`` (one ``os.write``, fsync'd).

    Call it under the reports lock. When the file ends with a line truncated by a kill, a
    newline is written first so that the new record stays on a line of its own.

    Raises
    ------
    OSError
        When the file cannot be written (the caller reports it).
    """
    path = Path(reports_dir) / RUNS_FILE
    line = json.dumps(record.to_dict(), ensure_ascii=False, default=str) + "\n"
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            line = "\n" + line
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def latest_by_params(reports_dir: str | os.PathLike) -> dict[str, RunRecord]:
    """The last attempt recorded for each params file (key: ``params_file`` as recorded)."""
    out: dict[str, RunRecord] = {}
    for rec in read_runs(reports_dir):
        out[rec.params_file] = rec
    return out


def history(reports_dir: str | os.PathLike, brand: str) -> list[RunRecord]:
    """The attempts of one brand (its slug or its params file's stem), oldest first."""
    return [r for r in read_runs(reports_dir) if brand in (r.brand, Path(r.params_file or "").stem)]


# ---------------------------------------------------------------------------- errors


def os_error_line(exc: OSError, folder: str | os.PathLike | None = None) -> str:
    """One line for a failed write: the folder (or file) and the cause, no stack trace.

    ``no space left on device writing /srv/reports/aurora (…)`` rather than the bare
    ``[Errno 28] No space left on device``.
    """
    where = exc.filename or folder or "?"
    causes = {
        errno.ENOSPC: "no space left on device",
        errno.EDQUOT: "disk quota exceeded",
        errno.EROFS: "read-only file system",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
    }
    cause = causes.get(exc.errno or 0, exc.strerror or str(exc))
    hint = ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = ": free some space and rerun"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        hint = ": make it writable for this user or pass --reports-dir DIR"
    inside = f" (reports folder {folder})" if folder and str(folder) not in str(where) else ""
    return f"cannot write {where}{inside}: {cause}{hint}"


# ---------------------------------------------------------------------------- lock


class ReportsLock:
    """The exclusive lock of a reports folder: ``flock`` on ``reports/.lock``.

    One ``kpitools run`` writes into a reports folder at a time; a second one waits up to
    ``wait`` seconds, then stops with :class:`~kpitools.errors.RunLockedError` naming the pid
    and start time of the holder. The kernel releases the lock when its process dies, even
    by SIGKILL, so a stale lock never blocks the next run.

    Parameters
    ----------
    reports_dir : path
        The reports folder (created when absent).
    wait : float
        Seconds to wait for the lock (0: do not wait).
    shard : (int, int), optional
        ``kpitools run --shard I/N``: the shards of one run share the folder. Each holds
        ``.lock`` *shared* (so that a whole-folder run or ``kpitools index`` waits for them
        all, and they wait for it) and ``.lock-shard-I-of-N`` exclusive (one run per shard).
    """

    def __init__(
        self,
        reports_dir: str | os.PathLike,
        wait: float = 0.0,
        shard: tuple[int, int] | None = None,
    ) -> None:
        self.reports_dir = Path(reports_dir)
        self.path = self.reports_dir / LOCK_FILE
        self.wait = wait
        self.shard = shard
        self.fd: int | None = None
        self.shard_fd: int | None = None

    def holder(self, path: Path | None = None) -> str:
        """``pid N, started …`` from the lock file, or ``pid unknown`` (shard runs hold
        ``.lock`` shared and do not write it)."""
        try:
            doc = json.loads((path or self.path).read_text(encoding="utf-8") or "{}")
            return f"pid {doc.get('pid', '?')}, started {doc.get('started_at', '?')}"
        except (OSError, ValueError):
            return "pid unknown"

    def acquire(self) -> ReportsLock:
        self.fd = self._lock(self.path, fcntl.LOCK_SH if self.shard else fcntl.LOCK_EX)
        if self.shard:
            i, n = self.shard
            try:
                self.shard_fd = self._lock(self.reports_dir / f"{LOCK_FILE}-shard-{i}-of-{n}")
            except BaseException:
                self.release()
                raise
        return self

    def _lock(self, path: Path, mode: int = fcntl.LOCK_EX) -> int:
        try:
            self.reports_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ReportsFolderError(os_error_line(exc, self.reports_dir)) from None
        deadline = time.monotonic() + max(0.0, self.wait)
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    waited = f" after waiting {self.wait:g} s" if self.wait else ""
                    raise RunLockedError(
                        f"another run holds {path} ({self.holder(path)}){waited}: "
                        "let it finish, or pass --wait SECONDS"
                    ) from None
                time.sleep(0.2)
        if mode == fcntl.LOCK_EX:  # a shared holder does not overwrite who holds it
            doc = json.dumps({"pid": os.getpid(), "started_at": utc_now().isoformat()})
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, doc.encode(), 0)
            except OSError as exc:
                os.close(fd)
                raise ReportsFolderError(os_error_line(exc, self.reports_dir)) from None
        return fd

    def release(self) -> None:
        for name in ("shard_fd", "fd"):
            fd = getattr(self, name)
            if fd is not None:
                setattr(self, name, None)
                try:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                finally:
                    os.close(fd)

    def __enter__(self) -> ReportsLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


# ---------------------------------------------------------------------------- publishing


def _checkpoint(point: str) -> None:
    """Test hook: die by SIGKILL here when ``KPITOOLS_TEST_KILL_AT`` names this point."""
    if os.environ.get(KILL_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@lru_cache(maxsize=1)
def _renameat2() -> Any:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError, TypeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def exchange(a: Path, b: Path) -> bool:
    """Swap the two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns False when the OS or the file system cannot (the caller falls back).
    """
    fn = None if os.environ.get(NO_EXCHANGE_ENV) else _renameat2()
    if fn is None:
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def _link_tree(src: Path, dst: Path) -> None:
    """``dst`` with the files of ``src`` (hard links: byte-identical, no space; else copies)."""
    dst.mkdir()
    for item in src.iterdir():
        if item.is_dir():
            shutil.copytree(item, dst / item.name)
            continue
        try:
            os.link(item, dst / item.name)
        except OSError:
            shutil.copy2(item, dst / item.name)


def _write_marker(folder: Path, run_id: str) -> None:
    fd = os.open(folder / COMPLETE_MARKER, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, run_id.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _marker(folder: Path) -> str | None:
    try:
        return (folder / COMPLETE_MARKER).read_text(encoding="utf-8").strip()
    except OSError:
        return None


def _move_history(old: Path, current: Path) -> None:
    """Put the ``runs/`` of the old current folder under the new one (rename, or per entry)."""
    src = old / "runs"
    if not src.is_dir():
        return
    dst = current / "runs"
    if not dst.exists():
        os.rename(src, dst)
        return
    for item in src.iterdir():
        if not (dst / item.name).exists():
            os.rename(item, dst / item.name)


def _keep_run(staging: Path, current: Path, run_id: str) -> Path:
    """The run's own copy: the staging folder renamed to ``<current>/runs/<run_id>``."""
    runs = current / "runs"
    runs.mkdir(exist_ok=True)
    kept = runs / run_id
    if staging.is_dir() and not kept.exists():
        os.rename(staging, kept)
    return kept


def publish_run(staging: Path, current: Path, run_id: str, *, keep_runs: int = 5) -> Path:
    """Publish a complete staging folder as the current report ``current`` and keep its copy.

    1. ``<brand>/.publish-<period>-<id>/``: hard links of the staging files, then the
       ``.complete`` marker (a kill before it: the publish never happened);
    2. one atomic exchange of it with the current folder (or, without the exchange, two
       renames that :func:`recover_brand` completes after a kill);
    3. the old current's ``runs/`` moved under the new current, the staging folder renamed
       to ``runs/<id>``, the old current removed, runs beyond ``keep_runs`` pruned.

    Returns
    -------
    Path
        The kept copy ``<current>/runs/<run_id>``.
    """
    brand_dir = current.parent
    brand_dir.mkdir(parents=True, exist_ok=True)
    nxt = brand_dir / f".publish-{current.name}-{run_id}"
    _link_tree(staging, nxt)
    _write_marker(nxt, run_id)
    _checkpoint("publish:built")
    old: Path | None = None
    if not current.exists():
        os.rename(nxt, current)
    elif exchange(nxt, current):
        old = nxt  # now holds the previous current
    else:
        old = brand_dir / f".old-{current.name}-{run_id}"
        os.rename(current, old)
        _checkpoint("publish:between-renames")
        os.rename(nxt, current)
    _checkpoint("publish:swapped")
    # a report published before run copies existed has no runs/: it becomes a copy of its own
    legacy = old is not None and not (old / "runs").is_dir()
    if old is not None:
        _move_history(old, current)
    _checkpoint("publish:history-moved")
    kept = _keep_run(staging, current, run_id)
    (current / COMPLETE_MARKER).unlink(missing_ok=True)
    _checkpoint("publish:kept")
    if old is not None and legacy:
        stamp = datetime.fromtimestamp(old.stat().st_mtime, UTC)
        os.rename(old, current / "runs" / f"{stamp:%Y%m%dT%H%M%S}-legacy")
    elif old is not None:
        shutil.rmtree(old, ignore_errors=True)
    prune_runs(current, keep_runs)
    return kept


def prune_runs(current: Path, keep: int) -> list[str]:
    """Remove all but the ``keep`` newest run copies in ``<current>/runs/`` (ids sort by time).

    Returns the ids removed.
    """
    runs = current / "runs"
    if not runs.is_dir():
        return []
    ids = sorted(p.name for p in runs.iterdir() if p.is_dir())
    gone = ids[: max(0, len(ids) - max(1, keep))]
    for rid in gone:
        shutil.rmtree(runs / rid, ignore_errors=True)
    return gone


def _split(name: str, prefix: str) -> tuple[str, str] | None:
    """``.publish-2025-11-20261202T063000-ab12cd`` → ``("2025-11", "20261202T063000-ab12cd")``."""
    rest = name[len(prefix) :]
    parts = rest.rsplit("-", 2)
    if len(parts) != 3:
        return None
    return parts[0], f"{parts[1]}-{parts[2]}"


def recover_brand(brand_dir: Path) -> list[str]:
    """Finish or roll back the publishes a kill interrupted; remove dead runs' leftovers.

    Call it only under the reports lock (every folder it touches belongs to a dead run).
    A complete ``.publish-*`` folder whose current folder is missing is installed (the kill
    came between the two renames of the fallback); one that was never swapped in is removed
    (the old current stays); a swapped-out old current gives its ``runs/`` to the new one.

    Returns
    -------
    list of str
        One line per repair, for the run's warnings.
    """
    notes: list[str] = []
    if not brand_dir.is_dir():
        return notes
    entries = sorted(p for p in brand_dir.iterdir() if p.is_dir() and p.name.startswith("."))
    # 1. the fallback's two renames: current missing, the old one aside
    for old in [p for p in entries if p.name.startswith(".old-")]:
        parts = _split(old.name, ".old-")
        if parts is None:
            continue
        period, rid = parts
        current = brand_dir / period
        nxt = brand_dir / f".publish-{period}-{rid}"
        if not current.exists():
            if nxt.is_dir() and _marker(nxt) == rid:
                os.rename(nxt, current)
                notes.append(f"{brand_dir.name}/{period}: finished the publish of run {rid}")
            else:
                os.rename(old, current)
                notes.append(f"{brand_dir.name}/{period}: restored the report before run {rid}")
                continue
        _move_history(old, current)
        staging = brand_dir / f".staging-{period}-{rid}"
        if _marker(current) == rid:
            _keep_run(staging, current, rid)
        shutil.rmtree(old, ignore_errors=True)
    # 2. publish folders: never swapped in (marker of their own run) or the swapped-out old one
    for nxt in [p for p in entries if p.name.startswith(".publish-") and p.exists()]:
        parts = _split(nxt.name, ".publish-")
        if parts is None:
            continue
        period, rid = parts
        current = brand_dir / period
        if _marker(current) == rid:  # swapped: nxt holds the previous current
            _move_history(nxt, current)
            _keep_run(brand_dir / f".staging-{period}-{rid}", current, rid)
            notes.append(f"{brand_dir.name}/{period}: finished the publish of run {rid}")
        elif not current.exists() and _marker(nxt) == rid:
            os.rename(nxt, current)
            _keep_run(brand_dir / f".staging-{period}-{rid}", current, rid)
            notes.append(f"{brand_dir.name}/{period}: finished the publish of run {rid}")
            continue
        shutil.rmtree(nxt, ignore_errors=True)
    # 3. markers left in current folders, staging folders of dead runs
    for current in brand_dir.iterdir():
        if current.is_dir() and not current.name.startswith("."):
            (current / COMPLETE_MARKER).unlink(missing_ok=True)
    for staging in brand_dir.glob(".staging-*"):
        shutil.rmtree(staging, ignore_errors=True)
        notes.append(f"{brand_dir.name}: removed {staging.name} of a run that did not finish")
    return notes


def recover_reports(
    reports_dir: str | os.PathLike, brands: Iterable[str] | None = None
) -> list[str]:
    """:func:`recover_brand` for every brand folder of ``reports_dir`` (under its lock).

    ``brands``: only these brand folders (a ``--shard`` run, which holds the folder's lock
    shared with the other shards: their brands and the folder's own files are theirs).
    """
    root = Path(reports_dir)
    notes: list[str] = []
    if not root.is_dir():
        return notes
    only = None if brands is None else set(brands)
    for brand_dir in sorted(root.iterdir()):
        if only is not None and brand_dir.name not in only:
            continue
        if brand_dir.is_dir() and not brand_dir.name.startswith(("_", ".")):
            notes += recover_brand(brand_dir)
    if only is None:
        for tmp in root.glob("*.tmp"):
            tmp.unlink(missing_ok=True)
    return notes


# ---------------------------------------------------------------------------- provenance


def file_sha256(path: str | os.PathLike) -> str | None:
    """The sha256 of a file's bytes (None when it cannot be read)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def data_fingerprint(freshness: Mapping[str, Mapping[str, Any]]) -> str:
    """sha256 over (table, row count, max time column) of each table, in table order."""
    text = "\n".join(
        f"{name}\t{doc.get('rows')}\t{doc.get('latest')}" for name, doc in sorted(freshness.items())
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def kpitools_commit() -> str | None:
    """``git describe --always --dirty`` of the checkout kpitools runs from, else None."""
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty", "--tags"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def relative_to(path: str | os.PathLike, base: str | os.PathLike) -> str:
    """``path`` relative to ``base`` when inside it, else as given."""
    try:
        return Path(path).resolve().relative_to(Path(base).resolve()).as_posix()
    except ValueError:
        return str(path)


def outputs_of(folder: Path, reports_dir: Path) -> list[str]:
    """The files of a report folder (not its runs/), relative to ``reports_dir``."""
    return sorted(
        relative_to(p, reports_dir)
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".")
    )
