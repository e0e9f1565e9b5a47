"""Line and scatter figures of measured quantities (dimensions along a zoom, ...)."""

from __future__ import annotations

import math
import textwrap

import numpy as np
from matplotlib.figure import Figure

from trainability.analysis.dimension import Dimension2D, estimate_2d
from trainability.analysis.tables import BOUNDARY_DIMENSIONS
from trainability.core.atomic import save_figure


def keyframe_estimates(fields, n_boot: int = 50) -> list[Dimension2D]:
    """Box-counting estimate of each keyframe alone (:func:`estimate_2d`; refused ones say why)."""
    return [estimate_2d(field, n_boot=n_boot) for field in fields]


def keyframe_dimensions(fields) -> np.ndarray:
    """The paper's estimate of each keyframe alone; NaN where it is refused (never a number)."""
    return np.array(
        [math.nan if e.refused else e.median_local_slope for e in keyframe_estimates(fields, 0)]
    )


def save_zoom_dimension(path, fields, windows, title: str) -> None:
    """Each keyframe's dimension (paper's estimator, interval as error bar) against the decades
    of zoom below the first keyframe.  Refused keyframes leave a gap in the line and are marked
    with a grey x on the axis, with the reason in the legend; never drawn as a number."""
    estimates = keyframe_estimates(fields)
    from trainability.core.coordinates import width

    widths = np.array([width(w[0], w[1]) for w in windows])  # exact bounds: exactly
    depth = np.log10(widths[0] / widths)
    dims = np.array([math.nan if e.refused else e.median_local_slope for e in estimates])
    ok = np.isfinite(dims)
    fig = Figure(figsize=(6, 3.5), dpi=120)
    ax = fig.add_subplot()
    ax.axhline(1.0, color="0.6", lw=0.8, ls="--")
    ax.axhline(2.0, color="0.6", lw=0.8, ls="--")
    ax.plot(depth, dims, "-", color="tab:purple", lw=1)  # NaN breaks the line: a gap
    if ok.any():
        ci = np.array([e.median_ci or (d, d) for e, d in zip(estimates, dims, strict=True)])
        ax.errorbar(
            depth[ok],
            dims[ok],
            yerr=np.abs(ci[ok].T - dims[ok]),
            fmt="o",
            color="tab:purple",
            ms=4,
            capsize=2,
            label="median local slope (95 % interval)",
        )
    low, high = 0.8, 2.1
    if ok.any():
        low = min(low, float(np.nanmin(ci[ok, 0])) - 0.05)
        high = max(high, float(np.nanmax(ci[ok, 1])) + 0.05)
    ax.set_ylim(low, high)
    refused = [e.refused for e in estimates if e.refused]
    if refused:
        reasons = sorted({r.split(":", 1)[0] for r in refused})
        ax.plot(
            depth[~ok],
            np.full((~ok).sum(), low),
            "x",
            color="0.4",
            clip_on=False,
            label=f"refused ({', '.join(reasons)}): {len(refused)} of {len(estimates)}",
        )
    if not ok.any():
        ax.text(
            0.5,
            0.5,
            "no keyframe measurable:\n" + textwrap.fill(refused[0].split(";", 1)[0], 60),
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=8,
        )
    ax.legend(fontsize=7, loc="upper left")
    ax.set_xlabel("decades of zoom below the outer keyframe")
    ax.set_ylabel("median local box-counting slope")
    ax.set_title(f"{title}: dimension along the zoom", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)


def save_toy_figure(path, study: str, rows: list[dict], title: str = "") -> None:
    """The figure of one of Liu's toy studies (`trainability.toys.studies`)."""
    fig = Figure(figsize=(10, 3.6), dpi=120)
    globals()[f"_toy_{study}"](fig, rows)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)


def _toy_strip(fig, rows):
    from trainability.analysis.dimension import alpha_1d

    lrs = np.array([r["lr"] for r in rows])
    bounded = np.array([r["trainable"] for r in rows])
    values = np.array([r["value"] for r in rows])
    shade = np.zeros_like(values)
    for phase in (bounded, ~bounded):  # Liu's colouring: each phase min-max normalised
        if phase.any():
            v = values[phase]
            shade[phase] = (v - v.min()) / (np.ptp(v) or 1.0)
    rgb = np.where(
        bounded[:, None],
        np.array([0.15, 0.35, 0.85]) * (0.4 + 0.6 * shade[:, None]),
        np.array([0.9, 0.2, 0.1]) * (0.4 + 0.6 * shade[:, None]),
    )
    ax = fig.add_subplot(1, 2, 1)
    ax.imshow(rgb[None, :, :], aspect="auto", extent=(lrs[0], lrs[-1], 0, 1))
    ax.set_yticks([])
    ax.set_xlabel("learning rate")
    ax.set_title("trainable (blue) and divergent (red) learning rates", fontsize=9)
    result = alpha_1d(bounded)
    counts = np.array(result.counts, float)
    ax = fig.add_subplot(1, 2, 2)
    k = np.arange(len(counts))
    ax.plot(k, np.log2(np.maximum(counts, 1)), "o-")
    ax.set_xlabel("grid level k (2^k + 1 points)")
    ax.set_ylabel("log2 #boundaries")
    ax.set_title(f"alpha = {result.alpha:.3f} ± {result.alpha_stderr:.3f}", fontsize=9)


def _toy_roughness(fig, rows):
    from trainability.toys.losses import CRITICAL_ROUGHNESS

    for i, kind in enumerate(("additive", "multiplicative")):
        sel = [r for r in rows if r["loss"] == kind]
        ax = fig.add_subplot(1, 2, i + 1)
        theta = np.array([r["roughness"] for r in sel])
        ax.errorbar(
            theta,
            [r["alpha"] for r in sel],
            yerr=[r["alpha_stderr"] for r in sel],
            fmt="o",
            ms=3,
            alpha=0.7,
        )
        ax.set_xscale("log")
        ax.set_xlabel("roughness " + ("θ+ = ε/λ²" if kind == "additive" else "θ× = ε"))
        ax.set_ylabel("boundary dimension α")
        ax.set_title(f"{kind} cosine perturbation", fontsize=9)
        if kind == "additive":
            ax.axvline(CRITICAL_ROUGHNESS, color="k", ls="--", lw=0.8, label="1/(2π²): non-convex")
            ax.legend(fontsize=8)


def _toy_dimension(fig, rows):
    ax = fig.add_subplot(1, 1, 1)
    for kind in ("additive", "multiplicative"):
        sel = [r for r in rows if r["loss"] == kind]
        ax.errorbar(
            [r["dim"] for r in sel],
            [r["alpha"] for r in sel],
            yerr=[r["alpha_stderr"] for r in sel],
            fmt="o-",
            ms=3,
            label=kind,
        )
    ax.set_xscale("log")
    ax.set_xlabel("parameter dimension d (x0 = 1/d)")
    ax.set_ylabel("boundary dimension α")
    ax.legend(fontsize=8)


def _toy_initial(fig, rows):
    ax = fig.add_subplot(1, 1, 1)
    for kind in ("additive", "multiplicative"):
        alpha = np.array([r["alpha"] for r in rows if r["loss"] == kind])
        ax.hist(alpha, bins=15, alpha=0.6, label=f"{kind}: {alpha.mean():.3f} ± {alpha.std():.3f}")
    ax.set_xlabel("boundary dimension α over random x0")
    ax.set_ylabel("count")
    ax.legend(fontsize=8)


def _toy_two_cosines(fig, rows):
    eps1 = np.unique([r["eps1"] for r in rows])
    eps2 = np.unique([r["eps2"] for r in rows])
    alpha = np.full((len(eps2), len(eps1)), np.nan)
    curvature = np.full_like(alpha, np.nan)
    for r in rows:
        j, i = np.searchsorted(eps1, r["eps1"]), np.searchsorted(eps2, r["eps2"])
        alpha[i, j], curvature[i, j] = r["alpha"], r["min_curvature"]
    ax = fig.add_subplot(1, 1, 1)
    mesh = ax.pcolormesh(eps1, eps2, alpha, shading="nearest", cmap="viridis")
    fig.colorbar(mesh, ax=ax, label="boundary dimension α")
    if np.nanmin(curvature) < 0 < np.nanmax(curvature):
        ax.contour(eps1, eps2, curvature, levels=[0.0], colors="red")
    ax.set_xlabel("ε1 (λ1 = 0.3)")
    ax.set_ylabel("ε2 (λ2 = 0.5)")
    ax.set_title("red: min f'' = 0 (convex below-left)", fontsize=9)


def save_lyapunov_figure(path, twin, maximal, converged, window) -> None:
    """Both exponents as heatmaps, diverging colours centred at 0, the boundary overlaid."""
    x_min, x_max, y_min, y_max = window
    fig = Figure(figsize=(10, 4.4), dpi=120)
    for i, (values, title) in enumerate(
        ((twin, "twin-trajectory estimate (report)"), (maximal, "maximal exponent (Benettin)"))
    ):
        ax = fig.add_subplot(1, 2, i + 1)
        finite = np.isfinite(values)
        scale = np.percentile(np.abs(values[finite]), 98) if finite.any() else 1.0
        image = ax.imshow(
            values,
            origin="lower",
            cmap="RdBu_r",
            vmin=-scale,
            vmax=scale,
            extent=(x_min, x_max, y_min, y_max),
            interpolation="nearest",
        )
        ax.contour(
            np.linspace(x_min, x_max, values.shape[1]),
            np.linspace(y_min, y_max, values.shape[0]),
            converged.astype(float),
            levels=[0.5],
            colors="k",
            linewidths=0.8,
        )
        fig.colorbar(image, ax=ax, shrink=0.8)
        ax.set_xlabel("log10 input layer learning rate")
        ax.set_ylabel("log10 output layer learning rate")
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


def save_resolution_figure(path, rows: list[dict], summary=(), title: str = "") -> None:
    """Dimension (median local slope, with its interval) against grid side, one line per
    condition, each with the paper's value as a dashed line of the same colour; refused
    estimates are left out. ``summary`` (`trainability.analysis.tables.resolution_summary`):
    each condition's extrapolation to infinite resolution drawn at the right edge with its
    interval, hollow where its verdict is ``uninformative``. The frame shows the dimensions a
    boundary can have (`BOUNDARY_DIMENSIONS`) with a margin; wider intervals run out of it."""
    fig = Figure(figsize=(6.4, 5.0), dpi=120)
    ax = fig.add_subplot()
    conditions = list(dict.fromkeys(row["condition"] for row in rows))
    sides = [int(r["resolution"].split("x")[0]) for r in rows]
    infinity = max(sides) * 2.5  # where n → ∞ is drawn
    extrapolated = {s["condition"]: s for s in summary if s.get("extrapolated") is not None}
    for k, name in enumerate(conditions):
        mine = [r for r in rows if r["condition"] == name]
        side = np.array([int(r["resolution"].split("x")[0]) for r in mine])
        dim = np.array([_number(r["median_local_slope"]) for r in mine])  # NaN: refused
        low = np.array([_number(r.get("median_ci_low")) for r in mine])
        high = np.array([_number(r.get("median_ci_high")) for r in mine])
        colour = f"C{k}"
        ok = np.isfinite(dim)
        ax.plot(side[ok], dim[ok], "o-", color=colour, label=mine[0].get("title", name))
        bars = ok & np.isfinite(low) & np.isfinite(high)
        ax.errorbar(side[bars], dim[bars], yerr=[dim[bars] - low[bars], high[bars] - dim[bars]],
                    fmt="none", ecolor=colour, capsize=2, lw=0.8)  # fmt: skip
        paper = _number(mine[0]["paper"])
        if np.isfinite(paper):
            ax.axhline(paper, color=colour, ls="--", lw=1)
        if name in extrapolated:
            s = extrapolated[name]
            d = s["extrapolated"]
            err = [[d - s["extrapolated_ci_low"]], [s["extrapolated_ci_high"] - d]]
            dodge = 1.12 ** (k - (len(conditions) - 1) / 2)  # side by side, not on top
            face = "white" if s.get("verdict") == "uninformative" else colour
            ax.errorbar([infinity * dodge], [d], yerr=err, fmt="s", color=colour, capsize=3,
                        markerfacecolor=face)  # fmt: skip
    ax.set_xscale("log", base=2)
    ax.set_xlim(min(sides) / 1.5, (infinity if extrapolated else max(sides)) * 1.5)
    ax.set_xticks(sorted(set(sides)), [f"{n}" for n in sorted(set(sides))])
    ax.minorticks_off()
    lowest, highest = BOUNDARY_DIMENSIONS
    ax.set_ylim(lowest - 0.5, highest + 0.25)
    if extrapolated:
        ax.axvline(max(sides) * 1.6, color="0.7", lw=0.8)
        ax.text(infinity, 0.01, "n → ∞", ha="center", va="bottom", fontsize=7,
                transform=ax.get_xaxis_transform())  # fmt: skip
    if not any(np.isfinite(_number(r["median_local_slope"])) for r in rows):
        ax.text(0.5, 0.5, "every estimate refused: " + (rows[0].get("refused") or "no number"),
                ha="center", va="center", transform=ax.transAxes)  # fmt: skip
    ax.set_xlabel("pixels per side of the panel")
    ax.set_ylabel("box-counting dimension (median local slope)")
    ax.set_title(title or "Dimension against resolution (dashed: the paper's value)")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3)  # below
    fig.tight_layout()
    save_figure(fig, path)


def _number(value) -> float:
    """A table cell as a float, NaN where it holds none (a refused estimate, no paper value)."""
    return math.nan if value is None or value == "" else float(value)


def save_fractal_end_figure(path, summaries: list[dict], keyframes: list[dict], threshold: float,
                            title: str = "") -> None:  # fmt: skip
    """Where the fractal ends (`trainability.zoom.fractal_end`). Left: each keyframe's slope (95 %
    interval) against its depth, one colour per training length T, refused keyframes as grey
    x on the axis, the smoothness threshold dashed. Right: d*(T) as the bracket (depth above,
    d*] — an arrow where the zoom did not reach it or started below it — beside the Lyapunov
    prediction log10(W·ln 10) + λT/ln 10."""
    fig = Figure(figsize=(10, 4.2), dpi=120)
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    left.axhline(threshold, color="0.5", ls="--", lw=0.8,
                 label=f"smooth: interval <= {threshold:g}")  # fmt: skip
    low = 0.8
    for k, summary in enumerate(summaries):
        steps, colour = summary["steps"], f"C{k}"
        mine = [r for r in keyframes if r["steps"] == steps]
        depth = np.array([r["depth"] for r in mine])
        slope = np.array([_number(r["slope"]) for r in mine])
        ok = np.isfinite(slope)
        if ok.any():
            bars = np.array([[_number(r["slope_low"]), _number(r["slope_high"])] for r in mine])
            left.errorbar(depth[ok], slope[ok], yerr=np.abs(bars[ok].T - slope[ok]), fmt="o-",
                          color=colour, ms=3, capsize=2, label=f"T = {steps}")  # fmt: skip
            low = min(low, float(np.nanmin(bars[ok, 0])) - 0.05)
        if (~ok).any():
            left.plot(depth[~ok], np.full((~ok).sum(), low), "x", color="0.4", clip_on=False)
    if any(r["refused"] for r in keyframes):
        left.plot([], [], "x", color="0.4", label="refused (see the table)")
    left.set_ylim(low, 2.1)
    left.set_xlabel("depth below the overview (decades)")
    left.set_ylabel("median local box-counting slope")
    left.legend(fontsize=7, loc="upper right")
    left.set_title("slope along the zoom", fontsize=10)

    steps = np.array([s["steps"] for s in summaries], float)
    for s in summaries:
        t = s["steps"]
        if s["status"] == "reached":
            right.plot([t, t], [s["d_above"], s["d_star"]], "-", color="tab:purple", lw=3)
            right.plot([t], [s["d_star"]], "o", color="tab:purple")
        elif s["status"] == "deeper":
            right.annotate("", (t, s["d_above"] + 1.5), (t, s["d_above"]),
                           arrowprops={"arrowstyle": "->", "color": "tab:purple"})  # fmt: skip
        elif s["status"] == "above":
            right.annotate("", (t, s["d_star"] - 1.5), (t, s["d_star"]),
                           arrowprops={"arrowstyle": "->", "color": "tab:purple"})  # fmt: skip
    right.plot([], [], "o-", color="tab:purple", label="measured d* (bracket; arrow: bound)")
    predicted = np.array([_number(s["predicted"]) for s in summaries])
    if np.isfinite(predicted).any():
        right.plot(steps, predicted, "s--", color="tab:green", ms=4,
                   label="log10(W ln 10) + λT/ln 10")  # fmt: skip
    if not any(s["status"] != "unmeasured" for s in summaries):
        right.text(0.5, 0.5, "no keyframe measurable:\n" + textwrap.fill(
            next((r["refused"] for r in keyframes if r["refused"]), "no keyframes"), 50),
            ha="center", va="center", fontsize=8, transform=right.transAxes)  # fmt: skip
    right.set_xlim(0, steps.max() * 1.1 if steps.size else 1)
    shown = [v for s in summaries for v in (s["d_star"], s["d_above"], s["predicted"])
             if v is not None and np.isfinite(v)]  # fmt: skip
    if shown:  # room for the arrows of bounds
        right.set_ylim(min(shown) - 2, max(shown) + 2)
    right.set_xlabel("training steps T")
    right.set_ylabel("d* (decades below the overview)")
    right.legend(fontsize=7, loc="upper left")
    right.set_title("where the fractal ends", fontsize=10)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    save_figure(fig, path)
