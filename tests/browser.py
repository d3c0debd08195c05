"""Headless Chromium for the portal's browser tests (Debian's ``chromium``).

- :func:`chromium` finds the binary; without it the tests skip, unless
  ``KPITOOLS_REQUIRE_CHROMIUM=1`` (as in CI, see ``.ci/run``): then they fail.
- Every run uses a throwaway profile and ``--proxy-server=127.0.0.1:9`` (nothing listens
  there), so a request to the outside cannot succeed, and Chromium's console goes to stderr
  (``--enable-logging=stderr``), where :func:`console_lines` finds the page's messages.
- Headless Chromium never lays a page out narrower than 500 px, whatever ``--window-size``
  says, so a phone width is measured by loading the page in an ``<iframe>`` of that width
  (:func:`probe`): media queries then see the iframe's width. A screenshot at a phone width is
  that frame, cropped to its width (:func:`screenshot`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REQUIRE_VAR = "KPITOOLS_REQUIRE_CHROMIUM"

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--enable-logging=stderr",
    "--v=0",
    # the probe reads the framed page's DOM: both are files of the same test folder
    "--allow-file-access-from-files",
]

#: Headless Chromium's narrowest layout viewport.
MIN_WINDOW = 500


def chromium() -> str:
    """The Chromium binary; skips the test when absent (fails when it is required)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    message = "headless Chromium not found (Debian: apt-get install chromium)"
    if os.environ.get(REQUIRE_VAR) == "1":
        pytest.fail(f"{message}; {REQUIRE_VAR}=1 requires it")
    pytest.skip(message)


def _run(args: list[str], *, timeout: int = 90) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="kpitools-chromium-") as profile:
        cmd = [chromium(), *FLAGS, f"--user-data-dir={profile}", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def console_lines(stderr: str) -> list[str]:
    """The page's console messages and uncaught errors in Chromium's stderr log."""
    return [
        line
        for line in stderr.splitlines()
        if ":CONSOLE" in line or "Uncaught" in line or "Not allowed to load" in line
    ]


def dump_dom(url: str, *, width: int = 1280, height: int = 2000) -> tuple[str, str]:
    """``(DOM after load, stderr)`` of ``url``."""
    out = _run([f"--window-size={width},{height}", "--dump-dom", url])
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout, out.stderr


_PROBE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>probe</title>
<style>html,body{margin:0;padding:0} iframe{border:0;display:block}</style></head><body>
<iframe id="f" src="%(src)s" width="%(width)d" height="%(height)d"></iframe><pre id="result"></pre>
<script>
document.getElementById("f").addEventListener("load", function () {
  var w = this.contentWindow, d = this.contentDocument, vw = w.innerWidth, out = {};
  out.viewport = vw;
  out.title = d.title;
  out.scrollWidth = d.documentElement.scrollWidth;
  out.resources = w.performance.getEntriesByType("resource").map(function (e) { return e.name; });
  out.cut = [];
  d.querySelectorAll("table, img, svg, pre").forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.right <= vw + 0.5) return;
    // wider than the screen: fine only inside a box of its own that scrolls sideways
    for (var p = el.parentElement; p && p !== d.body; p = p.parentElement) {
      var s = w.getComputedStyle(p).overflowX;
      if ((s === "auto" || s === "scroll") && p.getBoundingClientRect().right <= vw + 0.5) return;
    }
    out.cut.push(el.tagName + "." + el.className + " right=" + Math.round(r.right));
  });
  document.getElementById("result").textContent = JSON.stringify(out);
});
</script></body></html>
"""


@dataclass
class Probe:
    """What a page looks like at one width (see :func:`probe`)."""

    viewport: int
    title: str
    scroll_width: int
    resources: list[str]
    cut: list[str]
    console: list[str]


def probe(page: Path, *, width: int, height: int = 1600) -> Probe:
    """Lay ``page`` out ``width`` CSS px wide (in an iframe) and measure it: the page's own
    width, the resources it loaded, the elements that run past the right edge without a
    sideways-scrolling box of their own, and the console messages."""
    wrapper = page.with_name(f".probe-{width}-{page.name}")
    wrapper.write_text(
        _PROBE % {"src": page.name, "width": width, "height": height}, encoding="utf-8"
    )
    try:
        dom, stderr = dump_dom(wrapper.as_uri(), width=max(width, MIN_WINDOW) + 20, height=height)
    finally:
        wrapper.unlink()
    m = re.search(r'<pre id="result">(.*?)</pre>', dom, re.S)
    assert m and m[1], f"the probe did not run: {stderr[-1500:]}"
    raw = json.loads(
        m[1].replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    )
    return Probe(
        viewport=raw["viewport"],
        title=raw["title"],
        scroll_width=raw["scrollWidth"],
        resources=raw["resources"],
        cut=raw["cut"],
        console=[c for c in console_lines(stderr) if ".probe-" not in c or "Uncaught" in c],
    )


def screenshot(page: Path, out: Path, *, width: int, height: int = 2400) -> Path:
    """A PNG of ``page`` at ``width`` CSS px (a phone width through an iframe, cropped)."""
    if width >= MIN_WINDOW:
        res = _run([f"--window-size={width},{height}", f"--screenshot={out}", page.as_uri()])
        assert res.returncode == 0 and out.is_file(), res.stderr[-2000:]
        return out
    wrapper = page.with_name(f".shot-{width}-{page.name}")
    wrapper.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><style>html,body{margin:0}'
        "iframe{border:0;display:block}</style></head><body>"
        f'<iframe src="{page.name}" width="{width}" height="{height}"></iframe></body></html>',
        encoding="utf-8",
    )
    try:
        res = _run(
            [f"--window-size={MIN_WINDOW},{height}", f"--screenshot={out}", wrapper.as_uri()]
        )
    finally:
        wrapper.unlink()
    assert res.returncode == 0 and out.is_file(), res.stderr[-2000:]
    from PIL import Image

    with Image.open(out) as img:
        img.crop((0, 0, width, img.height)).save(out)
    return out


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG, from its IHDR chunk."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
