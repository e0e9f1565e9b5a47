"""Seed ensembles: numbers over seeds, the trainability probability map and its transition band.

A *seed ensemble* is one condition computed once per seed on the same window (``seeds`` in the
config, `trainability.study.config.ensemble_members`; docs/seeds.md). Over its K member grids:

- **statistics over seeds** (`over_seeds`): of a number measured once per seed (a box-counting
  dimension, a converged fraction) the mean m, the sample standard deviation s (K − 1 in the
  denominator) and the 95 % interval of the mean, m ± t₀.₉₇₅,K−1 · s/√K (Student's t: the
  seeds are K independent draws of the network and data; with K = 3, t = 4.30);
- the **trainability probability map** (`probability_map`): per pixel, the fraction P of the K
  members whose training converged;
- the **transition band** (`band_width`): the pixels with 0.1 ≤ P ≤ 0.9, where seeds disagree.
  Its width is its area divided by the length of the mean boundary, both measured in the
  window's axis units (decades on a log axis). The mean boundary is the 0.5 level set of P
  averaged over `SMOOTH` × `SMOOTH` pixels: the level set of P itself meanders with the
  pixel-scale noise of a few seeds (with per-pixel seeds) and of the fractal detail, and at
  128² it is 1.5–10× longer than the boundary's course, which would shrink the width by as
  much. A straight band of width w gives w, to within a pixel; seen through K draws per pixel,
  the width of the region where the draws disagree (both tested). K identical members give
  P ∈ {0, 1} and width 0;
- the **two boundaries** of each member (`trainability.train.measure`): trainability (the paper's
  label) and stability (no blow-up), each box-counted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from trainability.analysis.dimension import boundary_texture
from trainability.analysis.tables import dimension_row
from trainability.core.grid import Grid, need_values

BAND = (0.1, 0.9)  # the transition band of the probability map
SMOOTH = 9  # pixels: the box P is averaged over before its 0.5 level set, the mean boundary
CONFIDENCE = 0.95


def over_seeds(values: Sequence[float | None]) -> dict:
    """n, mean, sd and the 95 % t interval of the mean of the finite ``values`` (None, NaN: a
    seed whose number was refused, left out and counted in ``n`` only by its absence). The
    interval needs two values, the sd too; a single value gives its mean only."""
    from scipy.stats import t as student

    v = np.array([x for x in values if x is not None and math.isfinite(x)], float)
    out = {"n": int(v.size), "mean": None, "sd": None, "ci_low": None, "ci_high": None}
    if v.size == 0:
        return out
    out["mean"] = float(v.mean())
    if v.size > 1:
        sd = float(v.std(ddof=1))
        half = float(student.ppf(0.5 + CONFIDENCE / 2, v.size - 1)) * sd / math.sqrt(v.size)
        out.update(sd=sd, ci_low=out["mean"] - half, ci_high=out["mean"] + half)
    return out


def probability_map(grids: Sequence[Grid]) -> np.ndarray:
    """Per pixel, the fraction of ``grids`` (the members of one ensemble, one window) whose
    training converged."""
    if not grids:
        raise ValueError("a probability map needs at least one grid")
    first = grids[0]
    for g in grids[1:]:
        if not (np.array_equal(g.x, first.x) and np.array_equal(g.y, first.y)):
            raise ValueError("the grids of a probability map must share one window")
    return np.mean([g.converged for g in grids], axis=0)


def axis_coordinates(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates in the window's axis units: log10 of a log axis, else the values."""
    cond = grid.meta.get("condition", {})
    x = np.log10(grid.x) if cond.get("x_scale", "log") == "log" else np.asarray(grid.x, float)
    y = np.log10(grid.y) if cond.get("y_scale", "log") == "log" else np.asarray(grid.y, float)
    return x, y


def level_length(p: np.ndarray, x: np.ndarray, y: np.ndarray, level: float = 0.5) -> float:
    """Length of the ``level`` set of the field ``p`` on pixel centres (x, y): the polylines of
    marching squares (contourpy), in the units of x and y."""
    import contourpy

    lines = contourpy.contour_generator(x=x, y=y, z=np.asarray(p, float)).lines(level)
    return float(sum(np.hypot(*np.diff(line, axis=0).T).sum() for line in lines))


def band_width(p: np.ndarray, x: np.ndarray, y: np.ndarray, band=BAND, smooth=SMOOTH) -> dict:
    """The transition band {band[0] ≤ P ≤ band[1]} of a probability map: its area (pixels ×
    pixel area), the length of the mean boundary (the 0.5 level set of P averaged over
    ``smooth`` × ``smooth`` pixels), and width = area / length (None without a mean boundary),
    in the units of x and y (decades on a log axis)."""
    from scipy.ndimage import uniform_filter

    p = np.asarray(p, float)
    dx = abs(x[-1] - x[0]) / max(len(x) - 1, 1)
    dy = abs(y[-1] - y[0]) / max(len(y) - 1, 1)
    area = float(((p >= band[0]) & (p <= band[1])).sum() * dx * dy)
    length = level_length(uniform_filter(p, smooth, mode="nearest"), x, y)
    return {
        "band_area": area,
        "level_length": length,
        "band_width": area / length if length > 0 else None,
        "pixel": max(dx, dy),
    }


def stability_grid(grid: Grid) -> Grid:
    """The grid with its stability label as the sign of ``values`` (negative = stable), so the
    box counting of `trainability.analysis.tables.dimension_row` measures the stability boundary."""
    if grid.blowup_at is None:
        raise ValueError("this grid has no stability label (blowup_at): recompute it")
    need_values(grid, "the stability label")
    field = np.where(grid.blowup_at < 0, -1.0, 1.0)
    return Grid(field, grid.blowup_at < 0, grid.x, grid.y, grid.diverged_at, meta=grid.meta)


def member_row(ensemble: str, member: str, grid: Grid, dimension: dict) -> dict:
    """One member of an ensemble: its seed, both labels' fractions and dimensions, and how much
    of its trainability picture is speckle (`trainability.analysis.dimension.boundary_texture`).
    ``dimension`` is the member's row of its dimension.csv (the trainability boundary)."""
    stable = stability_grid(grid)
    stab = dimension_row(member, [stable], None)
    cond = grid.meta["condition"]
    return {
        "ensemble": ensemble,
        "member": member,
        "seed": grid.meta["seed"],
        "seed_mode": cond.get("seed_mode", "shared"),
        "pixel_draws": cond.get("pixel_draws", "weights")
        if cond.get("seed_mode") == "per_pixel"
        else "",
        "resolution": "x".join(str(n) for n in grid.values.shape[::-1]),
        "converged_fraction": float(grid.converged.mean()),
        "stable_fraction": float(stable.converged.mean()),
        "dimension": dimension["dimension"],
        "median_local_slope": _number(dimension["median_local_slope"]),
        "stability_dimension": stab["dimension"],
        "stability_median_local_slope": stab["median_local_slope"],
        "speckle": boundary_texture(grid.values).speckle,
    }


def summary_row(ensemble: str, title: str, members: Sequence[dict], grids: Sequence[Grid]) -> dict:
    """One ensemble: its seeds, the statistics over seeds of each member number, and its
    probability map's band (`band_width`)."""
    row = {
        "ensemble": ensemble,
        "title": title,
        "seeds": " ".join(str(m["seed"]) for m in members),
        "seed_mode": members[0]["seed_mode"],
        "pixel_draws": members[0]["pixel_draws"],
        "resolution": members[0]["resolution"],
    }
    for key, name in (
        ("median_local_slope", "dimension"),
        ("converged_fraction", "converged"),
        ("stability_median_local_slope", "stability_dimension"),
        ("stable_fraction", "stable"),
    ):
        stats = over_seeds([_number(m[key]) for m in members])
        row.update({f"{name}_{k}": v for k, v in stats.items()})
    x, y = axis_coordinates(grids[0])
    row.update(band_width(probability_map(grids), x, y))
    return row


SUMMARY_COLUMNS = (
    "ensemble", "title", "seeds", "seed_mode", "pixel_draws", "resolution",
    *(f"{n}_{k}" for n in ("dimension", "converged", "stability_dimension", "stable")
      for k in ("n", "mean", "sd", "ci_low", "ci_high")),
    "band_width", "band_area", "level_length", "pixel",
)  # fmt: skip
MEMBER_COLUMNS = (
    "ensemble", "member", "seed", "seed_mode", "pixel_draws", "resolution",
    "converged_fraction", "stable_fraction", "dimension", "median_local_slope",
    "stability_dimension", "stability_median_local_slope", "speckle",
)  # fmt: skip


def mean_pm(row: dict, name: str, digits: int = 2) -> str:
    """"1.31 ± 0.05 [1.19, 1.43] (3 seeds)": mean ± sd [95 % interval of the mean], as text."""
    n = int(row.get(f"{name}_n") or 0)
    mean = _number(row.get(f"{name}_mean"))
    if mean is None:
        return "not measured"
    sd, low, high = (_number(row.get(f"{name}_{k}")) for k in ("sd", "ci_low", "ci_high"))
    if sd is None:
        return f"{mean:.{digits}f} (1 seed)"
    return f"{mean:.{digits}f} ± {sd:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}] ({n} seeds)"



def summary_cells(r: dict) -> list[str]:
    """One ensemble's row of the seeds table as text: what it is, the number of seeds, mean ±
    sd of both dimensions and both fractions, and the 0.1–0.9 band width."""
    width = _number(r.get("band_width"))
    mode = "" if r["seed_mode"] == "shared" else f", per pixel ({r['pixel_draws']})"
    return [
        f"{r['title']} ({r['resolution']}{mode})",
        str(r["seeds"]),
        mean_pm(r, "dimension"),
        mean_pm(r, "converged"),
        mean_pm(r, "stability_dimension"),
        mean_pm(r, "stable"),
        "none" if width is None else f"{width:.3g}",
    ]

def summary_markdown(rows: Sequence[dict]) -> str:
    """The ensembles as a Markdown table: each number as `mean_pm`, the band width in decades."""
    head = (
        "| ensemble | seeds | D trainability | converged | D stability | stable | band 0.1-0.9 |\n"
        "|---|---|---|---|---|---|---|\n"
    )
    lines = ["| " + " | ".join(summary_cells(r)) + " |" for r in rows]
    return head + "\n".join(lines) + "\n"


def _number(value) -> float | None:
    if value is None or value == "":
        return None
    v = float(value)
    return v if math.isfinite(v) else None


# --------------------------------------------------------------------------- figures


def boundaries_image(grid: Grid) -> np.ndarray:
    """Three phases of a member, as 0/1/2: trained (converged), untrained but stable, blown
    up (a trained pixel that blew up on the way is 0 when it converged: see docs/seeds.md)."""
    phase = np.where(grid.converged, 0, 1)
    return np.where(~grid.converged & (grid.blowup_at >= 0), 2, phase)


def save_ensembles_figure(path, ensembles: Sequence[dict]) -> None:
    """One row per ensemble: its members side by side (trainability, rank-stretched as the
    heatmaps), then its probability map and the three phases of its first member.
    ``ensembles``: dicts with ``title``, ``grids``."""
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    from trainability.core.atomic import save_figure
    from trainability.figures.heatmap import axis_labels, plot_heatmap

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
