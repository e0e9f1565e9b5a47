"""The seed ensembles' figure: each ensemble's members, its trainability probability map and
the three phases of its first member (`trainability.analysis.seeds`, docs/seeds.md)."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from trainability.analysis.seeds import axis_coordinates, boundaries_image, probability_map
from trainability.core.atomic import save_figure
from trainability.figures.heatmap import axis_labels, plot_heatmap


def save_ensembles_figure(path, ensembles: Sequence[dict]) -> None:
    """One row per ensemble: its members side by side (trainability, rank-stretched as the
    heatmaps), then its probability map and the three phases of its first member.
    ``ensembles``: dicts with ``title``, ``grids``."""
    ncols = max(len(e["grids"]) for e in ensembles) + 2
    fig = Figure(figsize=(2.6 * ncols, 2.7 * len(ensembles) + 0.3), dpi=100)
    axes = fig.subplots(len(ensembles), ncols, squeeze=False)
    phases = ListedColormap(["#3288bd", "#fee08b", "#d53e4f"])
    for row, ens in zip(axes, ensembles, strict=True):
        grids = ens["grids"]
        labels = axis_labels(grids[0].meta["condition"])
        for ax, g in zip(row, grids, strict=False):
            title = f"{ens['title']}\nseed {g.meta['seed']}"
            plot_heatmap(ax, g.values, g.bounds, title=title, fontsize=6.5, **labels)
        x, y = axis_coordinates(grids[0])
        extent = (x[0], x[-1], y[0], y[-1])
        p = probability_map(grids)
        ax = row[-2]
        image = ax.imshow(p, origin="lower", extent=extent, cmap="RdYlBu", vmin=0, vmax=1,
                          aspect="auto", interpolation="nearest")  # fmt: skip
        if p.min() < 0.5 < p.max():
            ax.contour(x, y, p, levels=[0.5], colors="k", linewidths=0.6)
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.02)
        ax.set_title(f"P(converged) over {len(grids)} seeds", fontsize=8)
        ax = row[-1]
        ax.imshow(boundaries_image(grids[0]), origin="lower", extent=extent, cmap=phases,
                  vmin=0, vmax=2, aspect="auto", interpolation="nearest")  # fmt: skip
        ax.set_title(f"seed {grids[0].meta['seed']}: trained / stable / blown up", fontsize=8)
        for ax in row[-2:]:
            for name, set_label in (("xlabel", ax.set_xlabel), ("ylabel", ax.set_ylabel)):
                scale = labels["scales"][name == "ylabel"]
                set_label(labels[name] + (" (log10)" if scale == "log" else ""), fontsize=7)
        for ax in row[len(grids) : ncols - 2]:
            fig.delaxes(ax)
    fig.tight_layout()
    save_figure(fig, path)
