"""The look of the report's figures and their encoding as PNG bytes.

Every figure rendered for a report (the run's, the rolling week, the sizing study's,
the park's) is drawn inside :func:`figure_style`, gets :func:`thousands_ticks` on its
power and money axes and is saved with :func:`png_bytes`, so they all share one style
and one resolution.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

#: Resolution of the saved PNG files [dots per inch].
DPI = 110


@contextmanager
def figure_style() -> Iterator[None]:
    """Readable fonts, light grid, no top and right frame, for the figures drawn inside.

    Yields
    ------
    None
        Inside the ``with`` block, :mod:`matplotlib`'s rc parameters are set; they are
        restored on exit.
    """
    with plt.rc_context(
        {
            "font.size": 10,
            "axes.titlesize": 11,
            "axes.titlelocation": "left",
            "axes.labelsize": 10,
            "legend.fontsize": 9,
            "legend.frameon": False,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.axisbelow": True,
        }
    ):
        yield


def png_bytes(fig: Figure) -> bytes:
    """Save ``fig`` as PNG at :data:`DPI` and close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure; it is closed afterwards.

    Returns
    -------
    bytes
        The PNG file.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    plt.close(fig)
    return buffer.getvalue()


def thousands_ticks(ax: Any) -> None:
    """Label the y axis of ``ax`` as whole numbers with thousands separators (``12,500``).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes to format.
    """
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
