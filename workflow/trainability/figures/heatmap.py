"""Heatmaps of trainability grids with the look of Sohl-Dickstein (2024), docs/methods.md §2.

Input grids
-----------
A grid is a 2-D float64 array ``values`` of shape (ny, nx); row index = y axis (drawn with
``origin='lower'``). The sign is the phase, the magnitude the paper's intensity:

    v < 0   converged, intensity  Σ_t ℓ_t/ℓ_0      (value −Σ v_t)
    v ≥ 0   diverged,  intensity  Σ_t ℓ_0/ℓ_t      (value +Σ 1/v_t)

A window is ``(x_min, x_max, y_min, y_max)`` in log10 units; pixel centres lie at
``logspace(x_min, x_max, nx)`` (and likewise for y), so the window edges are pixel *centres*.

Rank ("cdf") colour stretch
---------------------------
Each phase is mapped separately and linearly **in rank** onto a band of [−1, 1]:

    converged  (v < 0):  rank 0 … m−1 (ascending v)  ↦  −1 … −0.25
    diverged   (v ≥ 0):  rank 0 … p−1 (ascending v)  ↦  +0.25 … +1

and the result is negated, so the final value s satisfies s > 0 for converged pixels and s < 0
for diverged ones. Shown with matplotlib ``Spectral`` (vmin −1, vmax 1): converged pixels are
green/blue (light = fast, dark purple = slow, s → +1), diverged pixels orange/red (light =
fast, dark red = slow, s → −1); the dark ends of both phases meet at the boundary.

Ranks are computed by interpolating each value into the *sorted* values of its own sign of a
reference array (the array itself by default). For a value x of sign σ with sorted reference
u_0 ≤ … ≤ u_{m−1} of that sign, the fractional rank is

    r(x) = mean{ i : u_i = x }                          if x occurs in u  (ties: average rank)
    r(x) = i + (x − u_i)/(u_{i+1} − u_i)                if u_i < x < u_{i+1}
    r(x) = 0  or  m−1                                   below / above the reference (clamped)

and t = r/(m−1) ∈ [0, 1] is mapped onto the band. Conventions for degenerate phases: with a
single reference value (m = 1), or with no reference value of that sign at all, t = 0.5 (the
middle of the band). Tied values get equal colours, so the stretch is order independent and
deterministic, and ``rank_stretch(v) == rank_stretch(v, reference=v)`` holds exactly.
Non-finite values (NaN) stay NaN and are left out of the reference.

Axes and ticks
--------------
Heatmaps carry ticks only at the two window edges of each axis, labelled with the
hyperparameter value 10^edge and just enough significant digits to tell the two labels apart
(:func:`format_edge_ticks`). To stay exact in windows ~1e−14 decades wide, the axes' data
coordinates are decades measured from the window's lower-left corner (x_min, y_min), i.e.
the image extent is [−dx/2, (x_max−x_min)+dx/2] × [−dy/2, (y_max−y_min)+dy/2] with dx, dy
the pixel spacings; tick labels show absolute values.

Figures are plain ``matplotlib.figure.Figure`` objects (not pyplot), rendered by the Agg
canvas: headless, no global backend switch, nothing left open in pyplot's figure registry.
All files are written atomically: to a temporary name in the same directory, then
``os.replace`` onto the final name.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from trainability.core.atomic import atomic_path, save_figure
from trainability.core.condition import AXES, phase_axes

__all__ = [
    "CMAP",
    "BUFFER",
    "RankReference",
    "rank_stretch",
    "colorize",
    "colorize_float",
    "rgb_to_uint8",
    "clean_number",
    "format_edge_ticks",
    "axis_labels",
    "plot_heatmap",
    "heatmap_figure",
    "panels_figure",
    "save_heatmap",
    "save_panels",
    "save_image",
]

CMAP = "Spectral"
BUFFER = 0.25  # gap between the two phase bands: converged → [0.25, 1], diverged → [−1, −0.25]
HEATMAP_INCHES = 5.0
HEATMAP_DPI = 150
PANEL_INCHES = 4.0
PANEL_DPI = 120

Window = tuple[float, float, float, float]


# ---------------------------------------------------------------------------------------------
# rank stretch
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RankReference:
    """Sorted finite values of each phase of a reference grid (sort once, stretch many)."""

    negative: np.ndarray  # sorted values < 0
    nonnegative: np.ndarray  # sorted values >= 0

    @classmethod
    def from_values(cls, values) -> RankReference:
        v = np.asarray(values, dtype=np.float64).ravel()
        v = v[np.isfinite(v)]
        return cls(negative=np.sort(v[v < 0]), nonnegative=np.sort(v[v >= 0]))


_SORT_KEYS_ABOVE = 1 << 16


def _fractional_position(x: np.ndarray, ref: np.ndarray, presorted: bool = False) -> np.ndarray:
    """t ∈ [0, 1]: average-rank / linearly interpolated position of x in sorted ``ref``."""
    m = ref.size
    if m <= 1:
        return np.full(x.shape, 0.5)
    if x.size > _SORT_KEYS_ABOVE and not presorted:
        # binary searches with sorted keys are cache friendly (≈3× faster for 4M keys);
        # the result is a per-element function, so it does not depend on this ordering
        order = np.argsort(x, kind="stable")
        out = np.empty(x.shape)
        out[order] = _fractional_position(x[order], ref, presorted=True)
        return out
    left = np.searchsorted(ref, x, side="left")
    right = np.searchsorted(ref, x, side="right")
    # exact hits (ties included): average of the tied ranks
    rank = 0.5 * (left + right - 1).astype(np.float64)
    # between two reference values: linear interpolation of the rank
    between = (left == right) & (left > 0) & (left < m)
    i = left[between]
    lo, hi = ref[i - 1], ref[i]
    rank[between] = (i - 1) + (x[between] - lo) / (hi - lo)
    # outside the reference: clamp to the ends
    rank[(left == right) & (left == 0)] = 0.0
    rank[(left == right) & (left == m)] = m - 1.0
    return rank / (m - 1)


def rank_stretch(values, reference=None) -> np.ndarray:
    """The paper's ``cdf_img``: signed rank stretch of ``values`` into [−1, 1] (see module doc).

    Converged (v < 0) pixels land in [0.25, 1], diverged (v ≥ 0) in [−1, −0.25] (after the
    final negation); within each phase larger v gives a smaller output (monotone).
    ``reference`` (array or :class:`RankReference`, default: ``values`` itself) supplies the
    rank distribution, e.g. a keyframe's when colouring an interpolated video frame.
    """
    v = np.asarray(values, dtype=np.float64)
    if reference is None:
        reference = v
    ref = (
        reference if isinstance(reference, RankReference) else RankReference.from_values(reference)
    )
    out = np.full(v.shape, np.nan)
    neg = v < 0
    pos = v >= 0  # False for NaN
    out[neg] = -1.0 + (1.0 - BUFFER) * _fractional_position(v[neg], ref.negative)
    out[pos] = BUFFER + (1.0 - BUFFER) * _fractional_position(v[pos], ref.nonnegative)
    return -out


def rgb_to_uint8(rgb: np.ndarray) -> np.ndarray:
    """Float RGB in [0, 1] → uint8 (rounded to nearest, clipped)."""
    return np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8)


def colorize_float(stretched) -> np.ndarray:
    """Stretched values (in [−1, 1]) → float RGB in [0, 1] via ``Spectral``, same shape + (3,).

    NaN maps to the colormap's 'bad' colour (RGB part of transparent black → black).
    """
    s = np.asarray(stretched, dtype=np.float64)
    cmap = matplotlib.colormaps[CMAP]
    return np.asarray(cmap((s + 1.0) / 2.0))[..., :3]


def colorize(stretched, *, flip: bool = True) -> np.ndarray:
    """Stretched grid (origin lower) → uint8 RGB image; ``flip`` puts the highest y row on top."""
    rgb = rgb_to_uint8(colorize_float(stretched))
    return rgb[::-1] if flip else rgb


# ---------------------------------------------------------------------------------------------
# ticks
# ---------------------------------------------------------------------------------------------
def clean_number(s: str) -> str:
    """A number as Python formats it, with its exponent written short: no ``+`` sign and no
    leading zeros ('1e+06' → '1e6', '2.5e-07' → '2.5e-7', '1e+00' → '1e0'); text without an
    exponent is returned as it is. Every tick label of the heatmaps and the explorer is
    written through it."""
    if "e" not in s:
        return s
    mant, exp = s.split("e")
    sign = "-" if exp.startswith("-") else ""
    return f"{mant}e{sign}{exp.lstrip('+-').lstrip('0') or '0'}"


def format_edge_ticks(lo: float, hi: float, scale: str = "log") -> tuple[str, str]:
    """Labels for 10**lo and 10**hi (``scale="linear"``: lo and hi) with enough significant
    digits to be told apart.

    The two values differ relatively by δ = 10^(hi−lo) − 1 ≈ ln(10)·(hi−lo) for narrow
    windows; ``d = ceil(−log10 δ) + 2`` significant digits (at least 3, at most 17) make them
    differ in the last one or two shown digits (trailing zeros are kept when d > 3, so both
    labels have the same length). If they still print identically (rounding at a
    digit boundary) more digits are added, up to float64's 17; exact bounds (decimal text)
    that float64 cannot tell apart are written from decimal arithmetic (`_deep_edge_ticks`).
    """
    exact_bounds = (lo, hi)
    lo, hi = float(lo), float(hi)
    if scale == "linear":
        a, b = lo, hi
        delta = abs(hi - lo) / max(abs(lo), abs(hi), 1e-300)
    else:
        a, b = 10.0**lo, 10.0**hi
        width = abs(hi - lo)
        delta = math.expm1(math.log(10.0) * width) if width > 0 else 0.0
    digits = 3 if delta <= 0 else int(min(17, max(3, math.ceil(-math.log10(delta)) + 2)))
    while True:
        alt = "#" if digits > 3 else ""  # narrow windows: keep trailing zeros, equal lengths
        sa, sb = f"{a:{alt}.{digits}g}", f"{b:{alt}.{digits}g}"
        if sa != sb or digits >= 17:
            break
        digits += 1
    if sa == sb:  # past float64 (exact bounds, the float64x2 engine): decimal arithmetic
        from trainability.core.coordinates import exact

        a, b = (exact(v) for v in exact_bounds)
        if a != b:
            return _deep_edge_ticks(a, b, scale)
    return clean_number(sa), clean_number(sb)


def _deep_edge_ticks(lo, hi, scale: str) -> tuple[str, str]:
    """`format_edge_ticks` past float64: the values in decimal arithmetic, with as many
    significant digits as tell them apart (the float64x2 engine's windows)."""
    from trainability.core.coordinates import power_of_ten, to_decimal

    a, b = (power_of_ten(v) if scale == "log" else to_decimal(v) for v in (lo, hi))
    digits = 3
    while True:
        sa, sb = (clean_number(f"{v:.{digits - 1}e}") for v in (a, b))
        if sa != sb or digits >= 45:
            return sa, sb
        digits += 1


# ---------------------------------------------------------------------------------------------
# heatmaps
# ---------------------------------------------------------------------------------------------


def axis_labels(condition: dict) -> dict:
    """Axis titles and scales of a condition (its ``to_dict()``): the titles of its two axes'
    declarations in `AXES` (lr_even and lr_odd, the paper's input and output layer learning
    rates, or the first and last groups' of another network; offset and lr; or a custom phase
    space's x_axis and y_axis)."""
    names = phase_axes(
        condition.get("phase_space", "lr_vs_lr"),
        condition.get("model", "mlp"),
        condition.get("x_axis"),
        condition.get("y_axis"),
    )
    scales = (condition.get("x_scale", "log"), condition.get("y_scale", "log"))
    return {"xlabel": AXES[names[0]].title, "ylabel": AXES[names[1]].title, "scales": scales}


def _check_grid(values, window) -> tuple[np.ndarray, Window]:
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2 or v.shape[0] < 1 or v.shape[1] < 1:
        raise ValueError(f"values must be a non-empty 2-D array, got shape {v.shape}")
    w = tuple(float(e) for e in window)
    if len(w) != 4:
        raise ValueError(f"window must be (x_min, x_max, y_min, y_max), got {window!r}")
    return v, w  # type: ignore[return-value]


def plot_heatmap(
    ax: Axes,
    values,
    window: Sequence[float],
    *,
    xlabel: str | None = "Input layer learning rate",
    ylabel: str | None = "Output layer learning rate",
    title: str | None = None,
    stretched=None,
    ticks: bool = True,
    fontsize: float = 8.0,
    scales: tuple[str, str] = ("log", "log"),
) -> AxesImage:
    """Draw a rank-stretched grid on ``ax`` (Spectral, vmin −1, vmax 1, nearest, origin lower).

    Data coordinates are decades from the window's lower-left corner (see module doc); ticks
    sit at the two window edges of each axis, labelled by :func:`format_edge_ticks`. The axes
    box is square. ``stretched`` may pass a precomputed :func:`rank_stretch` of ``values``.
    """
    from trainability.core.coordinates import width

    v, (x0, x1, y0, y1) = _check_grid(values, window)
    s = rank_stretch(v) if stretched is None else np.asarray(stretched, dtype=np.float64)
    if s.shape != v.shape:
        raise ValueError(f"stretched has shape {s.shape}, values {v.shape}")
    ny, nx = v.shape
    wx, wy = width(window[0], window[1]), width(window[2], window[3])
    dx = wx / (nx - 1) if nx > 1 else (wx if wx > 0 else 1.0)
    dy = wy / (ny - 1) if ny > 1 else (wy if wy > 0 else 1.0)
    extent = (-dx / 2, wx + dx / 2, -dy / 2, wy + dy / 2)
    im = ax.imshow(
        s,
        origin="lower",
        cmap=CMAP,
        vmin=-1.0,
        vmax=1.0,
        interpolation="nearest",
        extent=extent,
        aspect="auto",
    )
    ax.set_box_aspect(1)
    if ticks:
        x_labels = format_edge_ticks(window[0], window[1], scales[0])
        y_labels = format_edge_ticks(window[2], window[3], scales[1])
        ax.set_xticks([0.0, wx], list(x_labels), fontsize=fontsize)
        ax.set_yticks([0.0, wy], list(y_labels), fontsize=fontsize)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=fontsize + 1)
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=fontsize + 1)
    if title:
        ax.set_title(title, fontsize=fontsize + 2)
    return im


def heatmap_figure(values, window, **labels) -> Figure:
    """A single-heatmap figure (5 × 5 in); ``labels`` go to :func:`plot_heatmap`."""
    fig = Figure(figsize=(HEATMAP_INCHES, HEATMAP_INCHES), dpi=HEATMAP_DPI)
    ax = fig.add_subplot(1, 1, 1)
    plot_heatmap(ax, values, window, **labels)
    fig.tight_layout()
    return fig


_PANEL_KEYS = ("title", "xlabel", "ylabel", "stretched", "ticks", "scales")


def panels_figure(
    panels: Sequence[dict],
    nrows: int,
    ncols: int,
    suptitle: str | None = None,
    *,
    panel_inches: float = PANEL_INCHES,
    dpi: float = PANEL_DPI,
) -> Figure:
    """Grid of heatmaps, row-major; unused cells are removed (so ``len(fig.axes)`` = panels).

    Each panel is a dict with ``values`` and ``window`` and optionally ``title``, ``xlabel``,
    ``ylabel`` (``stretched``, ``ticks`` also pass through). The paper's six-panel figure is
    3 rows × 2 columns.
    """
    if nrows < 1 or ncols < 1:
        raise ValueError(f"nrows and ncols must be >= 1, got {nrows} x {ncols}")
    if len(panels) > nrows * ncols:
        raise ValueError(
            f"{len(panels)} panels do not fit a {nrows} x {ncols} layout ({nrows * ncols} cells)"
        )
    fig = Figure(figsize=(panel_inches * ncols, panel_inches * nrows + 0.4), dpi=dpi)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        if k >= len(panels):
            fig.delaxes(ax)
            continue
        p = panels[k]
        missing = {"values", "window"} - set(p)
        if missing:
            raise ValueError(f"panel {k} lacks key(s) {sorted(missing)}")
        kw = {key: p[key] for key in _PANEL_KEYS if key in p}
        plot_heatmap(ax, p["values"], p["window"], **kw)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def save_heatmap(path, values, window, **labels) -> None:
    """Write a single heatmap (PNG, 750 × 750 px) atomically; ``labels`` as in plot_heatmap."""
    save_figure(heatmap_figure(values, window, **labels), path)


def save_panels(path, panels: Sequence[dict], nrows: int, ncols: int, suptitle=None) -> None:
    """Write an nrows × ncols panel figure atomically (see :func:`panels_figure`)."""
    save_figure(panels_figure(panels, nrows, ncols, suptitle=suptitle), path)


def save_image(path, values, reference=None) -> None:
    """Write the raw stretched grid as an RGB PNG, one pixel per cell, highest y row on top."""
    import imageio.v3 as iio

    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2:
        raise ValueError(f"values must be 2-D, got shape {v.shape}")
    rgb = colorize(rank_stretch(v, reference=reference))
    with atomic_path(path) as tmp:
        iio.imwrite(tmp, rgb, extension=".png")
