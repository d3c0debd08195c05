"""Compare two report trees value for value (a restructuring must not change any output).

Usage::

    python scripts/compare_reports.py BEFORE_DIR AFTER_DIR

- ``*.json``: the same keys and values (numbers to 1e-6 relative), ignoring timings.
- ``*.html``: the same sequence of tags, attributes and visible text (whitespace collapsed,
  entities decoded, so ``&#x27;`` and ``&#39;`` are equal), embedded PNG figures byte-identical;
  the index's "Updated <time>" stamp is masked.
- ``*.pdf``: the same number of pages and the same text on each page.

Exit code 0 when every file of BEFORE has an equal counterpart in AFTER and no file is extra.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

#: Keys that change on every run: when it was written and how long it took.
IGNORED_KEYS = {"generated_at", "seconds", "fit_seconds"}
#: Relative tolerance for numbers: the CLV fits (scipy, threaded BLAS) vary in the 7th digit
#: from one run of the same code to the next; formatted report numbers never do.
REL_TOL = 1e-6
STAMP = re.compile(r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?\b")


class _Tokens(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tokens: list[tuple] = []

    def _attrs(self, attrs):
        out = []
        for k, v in sorted(attrs):
            v = v or ""
            if v.startswith("data:image/"):
                head, _, data = v.partition(",")
                v = head + "," + hashlib.sha256(base64.b64decode(data)).hexdigest()
            elif k == "style":
                v = re.sub(r"\s*;\s*", ";", v.strip()).rstrip(";")
            out.append((k, " ".join(v.split())))
        return tuple(out)

    def handle_starttag(self, tag, attrs):
        self.tokens.append(("<", tag, self._attrs(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        self.tokens.append(("</", tag))

    def handle_data(self, data):
        text = " ".join(STAMP.sub("<time>", data).split())
        if text:
            if self.tokens and self.tokens[-1][0] == "text":
                self.tokens[-1] = ("text", self.tokens[-1][1] + " " + text)
            else:
                self.tokens.append(("text", text))


def html_tokens(text: str) -> list[tuple]:
    p = _Tokens()
    p.feed(text)
    p.close()
    return p.tokens


def _json_equal(a, b, path="") -> str | None:
    if isinstance(a, dict) and isinstance(b, dict):
        ka, kb = set(a) - IGNORED_KEYS, set(b) - IGNORED_KEYS
        if ka != kb:
            return f"{path}: keys differ: only before {sorted(ka - kb)}, only after {sorted(kb - ka)}"
        for k in sorted(ka):
            d = _json_equal(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items before, {len(b)} after"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            d = _json_equal(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        if a == b or math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12):
            return None
        return f"{path}: {a!r} before, {b!r} after"
    return None if a == b else f"{path}: {a!r} before, {b!r} after"


def _pdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [" ".join((p.extract_text() or "").split()) for p in PdfReader(str(path)).pages]


def compare_file(before: Path, after: Path) -> str | None:
    """None when equal, else a one-line description of the first difference."""
    suffix = before.suffix
    if suffix == ".json":
        return _json_equal(json.loads(before.read_text()), json.loads(after.read_text()))
    if suffix == ".html":
        ta, tb = html_tokens(before.read_text()), html_tokens(after.read_text())
        for i, (x, y) in enumerate(zip(ta, tb, strict=False)):
            if x != y:
                ctx = " ".join(str(t[1])[:60] for t in ta[max(0, i - 3) : i])
                return f"token {i}: {x!r} before, {y!r} after (after …{ctx})"
        if len(ta) != len(tb):
            return f"{len(ta)} tokens before, {len(tb)} after"
        return None
    if suffix == ".pdf":
        pa, pb = _pdf_pages(before), _pdf_pages(after)
        if len(pa) != len(pb):
            return f"{len(pa)} pages before, {len(pb)} after"
        for i, (x, y) in enumerate(zip(pa, pb, strict=True)):
            x, y = STAMP.sub("<time>", x), STAMP.sub("<time>", y)
            if x != y:
                j = next(k for k in range(min(len(x), len(y)) + 1) if x[k : k + 1] != y[k : k + 1])
                return f"page {i + 1}: …{x[max(0, j - 40) : j + 40]!r} before, …{y[max(0, j - 40) : j + 40]!r} after"
        return None
    return None if before.read_bytes() == after.read_bytes() else "bytes differ"


def compare_trees(before: Path, after: Path, patterns=("*.json", "*.html", "*.pdf")) -> list[str]:
    problems = []
    files_a = {p.relative_to(before) for pat in patterns for p in before.rglob(pat)}
    files_b = {p.relative_to(after) for pat in patterns for p in after.rglob(pat)}
    skip = ("_logs", "_failed", "_runs")
    files_a = {p for p in files_a if not any(part in skip for part in p.parts)}
    files_b = {p for p in files_b if not any(part in skip for part in p.parts)}
    for rel in sorted(files_a - files_b):
        problems.append(f"{rel}: missing after")
    for rel in sorted(files_b - files_a):
        problems.append(f"{rel}: new after")
    for rel in sorted(files_a & files_b):
        diff = compare_file(before / rel, after / rel)
        if diff:
            problems.append(f"{rel}: {diff}")
    return problems


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print(__doc__)
        return 2
    before, after = Path(argv[0]), Path(argv[1])
    problems = compare_trees(before, after)
    n = sum(1 for pat in ("*.json", "*.html", "*.pdf") for _ in before.rglob(pat))
    for p in problems:
        print(p)
    print(f"{n} files compared, {len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
