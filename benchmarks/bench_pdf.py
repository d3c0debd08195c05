"""Where the CPU time of a report's PDF goes: WeasyPrint on one published report page, whole
and with parts taken out.

Prints one line per variant: pages, layout (``render``) and PDF writing CPU seconds, best of
``--repeat`` after a warm-up, with one font configuration for all (as a warm worker has).

Usage::

    python benchmarks/bench_pdf.py reports/aurora/2025-12/report.html --repeat 3
"""

from __future__ import annotations

import argparse
import re
import resource
import sys
from pathlib import Path


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def variants(src: str) -> dict[str, str]:
    """The page whole, without its glossary, with a one-column glossary, the glossary alone,
    without the SVG sparklines, without the PNG figures."""
    out = {"whole report": src}
    i = src.find('<dl class="kpi-glossary')
    if i >= 0:
        j = src.find("</dl>", i) + len("</dl>")
        out["without the glossary"] = src[:i] + src[j:]
        out["glossary in one column"] = src.replace(
            "</head>",
            "<style>@media print { dl.kpi-glossary { column-count: 1 !important; } }</style>"
            "</head>",
        )
        out["the glossary alone"] = (
            src[: src.find("<body")] + "<body>" + src[i:j] + "</body></html>"
        )
    out["without the sparklines (SVG)"] = re.sub(r"<svg.*?</svg>", "", src, flags=re.S)
    out["without the figures (PNG)"] = re.sub(r"<img[^>]*>", "", src)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("html", type=Path, help="a published report page (report.html)")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    from weasyprint import HTML

    from kpitools.report.export import shared_font_config

    fonts = shared_font_config()
    base = str(args.html.parent)
    src = args.html.read_text(encoding="utf-8")
    HTML(string=src, base_url=base).write_pdf(font_config=fonts)  # warm-up: fonts, imports
    print(f"{'variant':32s} {'pages':>5s} {'layout s':>9s} {'write s':>8s} {'CPU s':>6s}")
    for name, html in variants(src).items():
        best = None
        for _ in range(args.repeat):
            t0 = _cpu()
            doc = HTML(string=html, base_url=base).render(font_config=fonts)
            t1 = _cpu()
            doc.write_pdf()
            t2 = _cpu()
            if best is None or t2 - t0 < best[2]:
                best = (t1 - t0, t2 - t1, t2 - t0, len(doc.pages))
        layout, write, total, pages = best
        print(f"{name:32s} {pages:5d} {layout:9.2f} {write:8.2f} {total:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
