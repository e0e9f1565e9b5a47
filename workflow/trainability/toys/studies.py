"""Liu's (2024) studies of the cosine-perturbed quadratics, as tables (docs/methods.md §6).

Each study takes its configuration (plain data, `config.yaml`'s ``toys`` section merged with the
shared ``sweep`` settings: lr_max, levels, steps, threshold) and returns rows, one per loss
evaluated, with the boundary exponent α and its standard error:

- ``strip``: one loss, its labels and strip values over the learning-rate grid (Liu Fig. 1);
- ``roughness``: α over an ε × λ grid for the additive and multiplicative losses, against the
  roughness θ₊ = ε/λ² or θ× = ε (Fig. 2c/2d, 3a/3b);
- ``dimension``: α against the parameter dimension d with x₀ = (1/d)·1 (Fig. 4b/4c);
- ``initial``: α over random initial points x₀ ~ U(low, high) (Fig. S4/S5);
- ``two_cosines``: α over (ε₁, ε₂) with the convexity of the loss (Fig. 4a).
"""

from __future__ import annotations

import numpy as np

from trainability.toys.losses import (
    ToyLoss,
    lr_grid,
    min_curvature,
    roughness,
    sweep_lr,
    toy_dimension,
)

STUDIES = ("strip", "roughness", "dimension", "initial", "two_cosines")
KINDS = ("additive", "multiplicative")


def run_study(study: str, cfg: dict) -> list[dict]:
    """Rows of one study (see the module docstring)."""
    if study not in STUDIES:
        raise ValueError(f"toy study must be one of {', '.join(STUDIES)}; got {study!r}")
    return globals()[f"_{study}"](cfg)


def _sweep_kw(cfg: dict) -> dict:
    return {k: cfg[k] for k in ("lr_max", "levels", "steps", "threshold")}


def _row(toy: ToyLoss, start, cfg: dict, **extra) -> dict:
    result = toy_dimension(toy, start, **_sweep_kw(cfg))
    return {**extra, "alpha": result.alpha, "alpha_stderr": result.alpha_stderr}


def _strip(cfg: dict) -> list[dict]:
    loss = ToyLoss(cfg["loss"], cfg["eps"], cfg["wavelength"])
    labels, values = sweep_lr(loss, cfg["x0"], return_values=True, **_sweep_kw(cfg))
    lrs = lr_grid(cfg["lr_max"], cfg["levels"])
    return [
        {"lr": float(lr), "trainable": bool(b), "value": float(v)}
        for lr, b, v in zip(lrs, labels, values, strict=True)
    ]


def _roughness(cfg: dict) -> list[dict]:
    rows = []
    for kind in KINDS:
        for eps in np.linspace(*cfg["eps"]):
            for wavelength in np.linspace(*cfg["wavelength"]):
                loss = ToyLoss(kind, float(eps), float(wavelength))
                rows.append(
                    _row(
                        loss,
                        cfg["x0"],
                        cfg,
                        loss=kind,
                        eps=float(eps),
                        wavelength=float(wavelength),
                        roughness=roughness(loss),
                        convex=bool(min_curvature(loss) >= 0),
                    )
                )
    return rows


def _dimension(cfg: dict) -> list[dict]:
    return [
        _row(
            ToyLoss(kind, cfg["eps"], cfg["wavelength"], dim=int(d)),
            1.0 / d,
            cfg,
            loss=kind,
            dim=int(d),
        )
        for kind in KINDS
        for d in cfg["dims"]
    ]


def _initial(cfg: dict) -> list[dict]:
    rng = np.random.default_rng(cfg["seed"])
    x0s = rng.uniform(cfg["low"], cfg["high"], cfg["samples"])
    return [
        _row(ToyLoss(kind, cfg["eps"], cfg["wavelength"]), float(x0), cfg, loss=kind, x0=float(x0))
        for kind in KINDS
        for x0 in x0s
    ]


def _two_cosines(cfg: dict) -> list[dict]:
    rows = []
    for eps1 in np.linspace(*cfg["eps1"]):
        for eps2 in np.linspace(*cfg["eps2"]):
            loss = ToyLoss(
                "two_cosines", float(eps1), cfg["wavelength1"], float(eps2), cfg["wavelength2"]
            )
            curvature = min_curvature(loss)
            rows.append(
                _row(
                    loss,
                    cfg["x0"],
                    cfg,
                    eps1=float(eps1),
                    eps2=float(eps2),
                    min_curvature=curvature,
                    convex=bool(curvature >= 0),
                )
            )
    return rows


def fractal_threshold(rows: list[dict]) -> float:
    """Smallest additive roughness θ₊ with α > 0 in a roughness study (NaN if none)."""
    fractal = [r["roughness"] for r in rows if r["loss"] == "additive" and r["alpha"] > 0]
    return min(fractal) if fractal else float("nan")
