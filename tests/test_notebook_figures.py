"""setup_notebook under the inline backend: each figure drawn once, the same PNG shown."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent

PLOT = """\
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
draws = []
_real_draw = Figure.draw
def _counting_draw(self, renderer):
    draws.append(id(self))
    return _real_draw(self, renderer)
Figure.draw = _counting_draw
fig, ax = plt.subplots(figsize=(3, 2))
ax.plot([1, 2, 3], [3, 1, 2])
ax.set_title("revenue");
"""


def _run(kc, code: str) -> tuple[list[bytes], list[str]]:
    msg_id = kc.execute(code)
    pngs, text = [], []
    while True:
        msg = kc.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "display_data" and "image/png" in content["data"]:
            pngs.append(base64.b64decode(content["data"]["image/png"]))
        elif kind == "stream":
            text.append(content["text"].strip())
        elif kind == "error":
            raise AssertionError(content["evalue"])
        elif kind == "status" and content["execution_state"] == "idle":
            return pngs, text


def _kernel_figure(setup: str) -> tuple[bytes, int]:
    from jupyter_client.manager import start_new_kernel

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    km, kc = start_new_kernel(kernel_name="python3", env=env)
    try:
        _run(kc, setup)
        pngs, _ = _run(kc, PLOT)
        _, text = _run(kc, "print(len(draws))")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert len(pngs) == 1
    return pngs[0], int(text[-1])


def test_a_report_figure_is_drawn_once_and_shows_the_same_png():
    from_setup = "from kpitools.report.notebook import setup_notebook\nsetup_notebook()\n"
    # the same style with pyplot's hook left where it was (before the inline backend's)
    with_hook = (
        "import kpitools.report.notebook as nb\n"
        "nb._draw_each_figure_once = lambda: None\n"
        "nb.setup_notebook()\n"
    )
    png, draws = _kernel_figure(from_setup)
    png_before, draws_before = _kernel_figure(with_hook)
    # the PNG itself takes two draws (savefig.bbox "tight" measures, then renders); pyplot's
    # hook added a third that nothing showed
    assert draws_before == draws + 1 == 3
    assert png == png_before
    assert png.startswith(b"\x89PNG")
