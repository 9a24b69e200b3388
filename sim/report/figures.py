"""What every report picture shares: the figure on its canvas, the atomic save, the colours.

matplotlib is imported on first use and each figure is drawn on an explicit Agg canvas,
so ``import sim`` stays cheap and nothing depends on (or changes) the pyplot backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox

DEFAULT_SIZE = (1600, 1000)  # pixels
DEFAULT_DPI = 100
FAULT_COLOUR = "#d62728"
FAULT_FILL = "#f4a6a6"
CHANGE_COLOUR = "#6f6f6f"
ACTION_PALETTE = ("#1b9e77", "#7570b3", "#d95f02", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")
SEVERITY_COLOURS = {"critical": "#d62728", "warning": "#f0a30a", "info": "#7f93ad"}
DETECTION_COLOUR = "#111111"
HERRING_COLOUR = "#8a8a8a"
HERRING_HATCH = "#c4c4c4"
CUSTOMER_COLOUR = "#7b3294"


def new_figure(size: tuple[int, int] = DEFAULT_SIZE, dpi: int = DEFAULT_DPI) -> Figure:
    """A figure of exactly ``size`` pixels on an Agg canvas (no pyplot, no global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Save ``fig`` atomically: a temporary file in the same folder, then a rename.

    The format follows the suffix of ``path`` (PNG when it has none). The pixel size is the
    figure's (no tight bounding box), so callers get the size they asked for. The file is
    readable by all (0644), like one written with ``open``.
    """
    from sim.atomic import atomic_file

    target = Path(path)
    fmt = target.suffix.lstrip(".").lower() or "png"
    with atomic_file(target, binary=True) as fh:
        fig.savefig(fh, format=fmt, dpi=fig.dpi)
    return target


def padded_union(a: Bbox, b: Bbox) -> Bbox:
    """The box around ``a`` and ``b``, with 3 pixels to spare (for overlap tests)."""
    from matplotlib.transforms import Bbox

    return Bbox.union([a, b]).padded(3)
