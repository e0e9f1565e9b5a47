"""Line and scatter figures of measured quantities (dimensions along a zoom, ...)."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from trainability.dimension import estimate_2d
from trainability.render import save_figure


def keyframe_dimensions(fields) -> np.ndarray:
    """Median local box-counting slope of each keyframe alone (NaN without a boundary)."""
    out = []
    for field in fields:
        try:
            out.append(estimate_2d(field, n_boot=0).median_local_slope)
        except ValueError:
            out.append(math.nan)
    return np.array(out)


def save_zoom_dimension(path, fields, windows, title: str) -> None:
    """Plot each keyframe's dimension against the decades of zoom below the first keyframe."""
    dims = keyframe_dimensions(fields)
    widths = np.array([w[1] - w[0] for w in windows])
    depth = np.log10(widths[0] / widths)
    fig = Figure(figsize=(6, 3.5), dpi=120)
    ax = fig.add_subplot()
    ax.plot(depth, dims, "o-", color="tab:purple")
    ax.axhline(1.0, color="0.6", lw=0.8, ls="--")
    ax.axhline(2.0, color="0.6", lw=0.8, ls="--")
    ax.set_ylim(0.8, 2.1)
    ax.set_xlabel("decades of zoom below the outer keyframe")
    ax.set_ylabel("median local box-counting slope")
    ax.set_title(f"{title}: dimension along the zoom", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)
