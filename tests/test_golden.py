"""The library's engines against golden grids computed by an independent reference.

tests/data/golden/*.npz were computed by tests/data/make_golden.py with tests/independent.py,
which imports nothing from `trainability`: its own draws, network, loss, training loop (optax's
optimizers) and convergence measure, written from docs/methods.md. Each grid is 8 × 8 pixels
of 200 steps; its condition and window are stored with it. Here the library's sweep
(`trainability.train.sweep.sweep`, the default engine and the autodiff one) recomputes each
grid from the stored condition and window, and must agree:

- **Pixel coordinates**: the sweep's x and y equal the stored ones to 1 ulp (both are
  jnp.logspace or np.linspace of the stored bounds).
- **Condition**: `Condition(**stored)` reads every field as the reference did, so a changed
  default (the paper's width, N, seed, draws, Adam's ε ...) fails here.
- **Labels**: at most ``allowed`` pixels may differ (tests/data/golden/floors.json). Pixels on a
  fractal boundary are chaotic: two correct implementations whose arithmetic differs in the last
  bit (another summation order, an FMA, a hand-written backward pass against jax.grad) part
  there after a few dozen steps, so a few labels may differ for no fault. That *chaos floor*
  was measured per grid and engine (tests/data/measure_floors.py, which records the counts and
  how they were obtained); the allowance is the larger of the two counts plus a small margin.
- **Values** where the pixel is not chaotic: the golden file stores each pixel's
  *sensitivity*, |v' − v|/|v| when the reference reruns it with every learning rate multiplied
  by 1 + 10⁻⁹. Where it is at most `INSENSITIVE` (10⁻⁸: a relative change of the trajectory is
  amplified at most tenfold into the value) the two values must agree to `RTOL` = 10⁻⁶ relative.
  Rounding differences between implementations are ~10⁻¹⁵ relative per step, so even amplified
  a thousandfold they stay below 10⁻⁹; the measured worst case is in floors.json
  (``max_rel_value_diff``). A change of the model as small as the tanh gain from √2 to 1.4 moves
  these values by about 10⁻², four orders of magnitude above the tolerance.

How to regenerate after an *intended* change of the model: run make_golden.py, then
measure_floors.py, and say in the commit why the golden numbers changed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import trainability.numerics.jax64  # noqa: F401  (float64 before any array)
from trainability.core.condition import Condition
from trainability.core.window import Window
from trainability.train.sweep import Engine, sweep

GOLDEN = Path(__file__).resolve().parent / "data" / "golden"
NAMES = sorted(p.stem for p in GOLDEN.glob("*.npz"))
ENGINES = ("fused", "autodiff")
INSENSITIVE = 1e-8
RTOL = 1e-6


def floors() -> dict:
    return json.loads((GOLDEN / "floors.json").read_text())


def load(name: str) -> dict:
    with np.load(GOLDEN / f"{name}.npz") as data:
        out = {key: data[key] for key in data.files}
    for key in ("condition", "resolved", "window", "versions"):
        out[key] = json.loads(str(out[key]))
    return out


def recompute(golden: dict, engine: str):
    """The library's grid of the golden file's condition and window."""
    cond = Condition(**golden["condition"])
    return cond, sweep(cond, Window(**golden["window"]), Engine(name=engine))


def compare(golden: dict, grid) -> tuple[int, int, float]:
    """(labels that differ, insensitive pixels compared, their largest relative value gap)."""
    differ = int((grid.converged != golden["labels"]).sum())
    compared = (golden["sensitivity"] <= INSENSITIVE) & (grid.converged == golden["labels"])
    gap = np.abs(grid.values - golden["values"]) / np.abs(golden["values"])
    return differ, int(compared.sum()), float(gap[compared].max()) if compared.any() else 0.0


def test_every_golden_grid_has_a_floor_and_both_labels():
    assert len(NAMES) >= 9
    assert set(floors()["grids"]) == set(NAMES)
    for name in NAMES:
        golden = load(name)
        assert golden["labels"].any() and not golden["labels"].all(), name
        assert np.isfinite(golden["values"]).all() and (golden["values"] != 0).all(), name
        assert ((golden["values"] < 0) == golden["labels"]).all(), name  # sign is the label


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", NAMES)
def test_engine_reproduces_the_golden_grid(name, engine):
    golden = load(name)
    cond, grid = recompute(golden, engine)
    for field, value in golden["resolved"].items():
        assert getattr(cond, field) == value, f"{name}: Condition.{field} is no longer {value!r}"
    np.testing.assert_allclose(grid.x, golden["x"], rtol=4e-16, atol=0)
    np.testing.assert_allclose(grid.y, golden["y"], rtol=4e-16, atol=0)
    allowed = floors()["grids"][name]["allowed"]
    differ, compared, gap = compare(golden, grid)
    assert differ <= allowed, (
        f"{name} ({engine}): {differ} of {golden['labels'].size} labels differ from the "
        f"independent reference; the chaos floor allows {allowed}"
    )
    assert gap <= RTOL, (
        f"{name} ({engine}): values of insensitive pixels differ by up to {gap:.2e} relative "
        f"(tolerance {RTOL:g}, {compared} pixels compared)"
    )
