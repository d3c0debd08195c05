"""Text is text in kpitools' figures: no mathtext, whatever the text holds.

Currency symbols (``US$``, ``R$``), ``%``, ``_`` and titles written by users (objective titles,
brand names, channel names from the data) are drawn exactly as written. Matplotlib would read a
pair of ``$`` as mathematics ("US$76,109 (≥ US$100,000)" would come out as "US76, 109(≥US100,000)");
every figure of :mod:`kpitools.plots` is therefore drawn with ``text.parse_math`` off:

- :data:`FIGURE_RC` is applied by :func:`kpitools.report.notebook.setup_notebook`, the one place
  report figures are styled;
- :func:`plain_text` wraps every public ``plot_*`` function, so a figure drawn outside the
  report notebooks (a user's own notebook, a test) is plain text too: its texts are created with
  ``text.parse_math`` off and every Text of the figure is switched off afterwards.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.text import Text

#: Matplotlib settings every kpitools figure is drawn with (``$`` is a character, not mathtext).
FIGURE_RC: dict[Any, Any] = {"text.parse_math": False}

F = TypeVar("F", bound=Callable[..., Any])


def literal(text: object) -> str:
    """``text`` as a string to draw; figures of kpitools never parse mathtext (see module)."""
    return str(text)


def _figure_of(result: object) -> Figure | SubFigure | None:
    if isinstance(result, Axes):
        return result.figure
    if isinstance(result, Figure | SubFigure):
        return result
    return None


def make_plain(figure: Figure | SubFigure) -> None:
    """Switch mathtext off on every Text of ``figure``, tick labels included.

    The tick labels matplotlib will need when the figure is drawn are created now (ticks made
    later follow ``text.parse_math`` of the moment), so run this under :data:`FIGURE_RC`.
    """
    for ax in figure.get_axes():
        for axis in (ax.xaxis, ax.yaxis):
            axis.get_major_ticks(len(axis.get_majorticklocs()))
            axis.get_minor_ticks(len(axis.get_minorticklocs()))
    for artist in figure.findobj(lambda a: isinstance(a, Text)):
        if isinstance(artist, Text):
            artist.set_parse_math(False)
    for ax in figure.get_axes():
        for axis in (ax.xaxis, ax.yaxis):
            for tick in [*axis.majorTicks, *axis.minorTicks]:
                tick.label1.set_parse_math(False)
                tick.label2.set_parse_math(False)


def plain_text(func: F) -> F:
    """Decorator of a ``plot_*`` function: its figure draws every text literally."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with mpl.rc_context(FIGURE_RC):
            result = func(*args, **kwargs)
            figure = _figure_of(result)
            if figure is not None:
                make_plain(figure)
        return result

    return wrapper  # type: ignore[return-value]


__all__ = ["FIGURE_RC", "literal", "make_plain", "plain_text"]
