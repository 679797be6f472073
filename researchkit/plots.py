"""One house style for every researchkit figure, and saving figures into the run folder.

Call :func:`set_style` once at the top of a notebook (every shipped notebook does); build figures
with seaborn/matplotlib as usual; call :func:`save_figure` to store them under the run's
``figures/`` folder, where the report and batch users find them.

The palette is colour-blind safe (Okabe & Ito 2008, "Color Universal Design") and ordered so that
the first two colours (blue, orange) read well as control/treatment or before/after.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from researchkit.errors import ParameterError
from researchkit.run_context import SavedFiles, _check_name, figures_dir

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "PALETTE",
    "format_axis_percent",
    "label_bars",
    "new_figure",
    "save_figure",
    "set_style",
]

#: Okabe–Ito colour-blind-safe palette (black moved to the end).
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)

#: Diverging colours for heatmaps of signed values (e.g. lift, residuals).
DIVERGING_CMAP = "RdBu_r"
#: Sequential colours for heatmaps of counts and shares.
SEQUENTIAL_CMAP = "Blues"

_RC: dict[str, Any] = {
    "figure.figsize": (8.0, 4.5),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "axes.titlesize": "large",
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "font.size": 10,
}


def set_style(context: str = "notebook", font_scale: float = 1.0) -> None:
    """Apply the researchkit house style to matplotlib and seaborn.

    Parameters
    ----------
    context : {"paper", "notebook", "talk", "poster"}
        seaborn plotting context (scales fonts and lines).
    font_scale : float
        Extra font scaling.
    """
    import seaborn as sns

    contexts = ("paper", "notebook", "talk", "poster")
    if context not in contexts:
        raise ParameterError("unknown plotting context", parameter="context",
                             expected=f"one of {contexts}", got=context)
    sns.set_theme(context=context, style="whitegrid", palette=list(PALETTE),
                  font_scale=font_scale, rc=_RC)


def new_figure(
    nrows: int = 1, ncols: int = 1, *, width: float | None = None, height: float | None = None,
    **kwargs: Any,
) -> tuple[Figure, Any]:
    """``plt.subplots`` with house-style sizes (8 × 4.5 inches per default panel row)."""
    import matplotlib.pyplot as plt

    w = width if width is not None else 8.0 if ncols == 1 else 4.5 * ncols
    h = height if height is not None else 4.5 * nrows
    kwargs.setdefault("layout", "constrained")
    return plt.subplots(nrows, ncols, figsize=(w, h), **kwargs)


def format_axis_percent(ax: Axes, axis: str = "y", decimals: int = 0) -> None:
    """Show a 0-1 share axis as percentages."""
    from matplotlib.ticker import PercentFormatter

    if axis not in ("x", "y"):
        raise ParameterError("unknown axis", parameter="axis", expected="'x' or 'y'", got=axis)
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(PercentFormatter(xmax=1.0, decimals=decimals))


def label_bars(ax: Axes, fmt: str = "{:.0%}", padding: float = 2.0) -> None:
    """Write each bar's value at its end (``fmt`` is a ``str.format`` pattern)."""
    for container in ax.containers:
        ax.bar_label(container, labels=[fmt.format(v) for v in container.datavalues],
                     padding=padding, fontsize="small")


def save_figure(
    fig: Figure, name: str, *, formats: Sequence[str] = ("png",), dpi: int | None = None,
) -> SavedFiles:
    """Save a figure into the current run's ``figures/`` folder.

    Parameters
    ----------
    fig : matplotlib Figure (or a seaborn grid with a ``.figure``/``.fig``)
    name : str
        File name without extension (letters, digits, ``_ - .``).
    formats : sequence of {"png", "svg", "pdf"}
        One file per format.
    dpi : int, optional
        Resolution for raster formats (house default 150).

    Returns
    -------
    SavedFiles
        A list of the files written.
    """
    _check_name(name, "figure")
    allowed = ("png", "svg", "pdf")
    bad = [f for f in formats if f not in allowed]
    if bad or not formats:
        raise ParameterError("unknown figure format", parameter="formats",
                             expected=f"some of {allowed}", got=list(formats))
    figure = getattr(fig, "figure", None) or getattr(fig, "fig", None) or fig
    if not hasattr(figure, "savefig"):
        raise ParameterError("not a matplotlib figure", parameter="fig",
                             got=type(fig).__name__)
    out = []
    folder = figures_dir()
    for fmt in formats:
        path = folder / f"{name}.{fmt}"
        figure.savefig(path, format=fmt, dpi=dpi)
        out.append(path)
    return SavedFiles(out)
