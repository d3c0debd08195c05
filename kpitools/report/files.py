"""Writing report files so that a reader never sees half of one."""

from __future__ import annotations

import os
from pathlib import Path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically: a reader sees the old file or the new
    one, never half of it (written beside it, then renamed over it). The temporary file's name
    carries the process id, so that two processes writing one file (the shards of one reports
    folder rebuilding its index) never write into each other's."""
    out = Path(path)
    tmp = out.with_name(f"{out.stem}.{os.getpid()}{out.suffix}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


__all__ = ["write_text_atomic"]
