"""Compute the golden grids of tests/test_golden.py with the independent reference
(tests/independent.py, which imports nothing from `trainability`) and store them in
tests/data/golden/<name>.npz.

    PYTHONPATH=workflow python tests/data/make_golden.py [name ...]

Each file holds: ``labels`` (ny × nx, True = converged), ``values`` (the signed measure),
``x`` and ``y`` (the pixel coordinates), ``sensitivity`` (|v' − v|/|v| where v' is the value
with every learning rate multiplied by 1 + `PROBE_STEP`: how much a tiny change of the
trajectory moves the pixel's value; test_golden.py compares values only where it is small),
``condition`` (JSON: the condition's fields that differ from the paper's defaults, as
`trainability.core.condition.Condition` takes them), ``resolved`` (JSON: every field as the
reference read it), ``window`` (JSON: x_min, x_max, y_min, y_max as log10 bounds on log axes or
values on linear ones, nx, ny) and ``versions`` (JSON: jax, jaxlib, numpy, optax).

The grids are small (8 × 8 pixels, 200 steps: a few seconds each on one core) and chosen to hold
both labels: the paper's 9-decade tanh overview (config/config.yaml defaults), a window
6·10⁻⁶ decades wide at the published tanh panel (config/config.yaml ``tanh_fullbatch.panel``;
at 200 steps the boundary passes there too), the ReLU, identity, minibatch and weight-offset
overviews, and one per optimizer family (momentum, Nesterov with a cosine schedule, Adam,
AdamW with warm-up, l2 weight decay), on or near the optimizer studies' windows of
config/config.yaml (moved where both labels and some non-chaotic pixels lie).
The chaos floors next to them (floors.json) come from tests/data/measure_floors.py.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/: the independent reference

import independent  # noqa: E402

OUT = HERE / "golden"
PROBE_STEP = 1e-9
STEPS = 200
PIXELS = 8
OVERVIEW = (-3.0, 6.0, -3.0, 6.0)  # config/config.yaml defaults.window: 9 decades


def _panel(edges, half_width):
    """A square log10 window of ``half_width`` decades about the centre of a published panel
    (its edges as config/config.yaml gives them: lr_input from, to, lr_output from, to)."""
    cx = math.log10((edges[0] + edges[1]) / 2)
    cy = math.log10((edges[2] + edges[3]) / 2)
    return (cx - half_width, cx + half_width, cy - half_width, cy + half_width)


TANH_PANEL = (13.29976231, 13.29978604, 200.3582269, 200.3585844)

GRIDS = {
    "tanh_overview": ({}, OVERVIEW),
    "tanh_deep": ({}, _panel(TANH_PANEL, 3e-6)),
    "relu_overview": ({"activation": "relu"}, OVERVIEW),
    "identity_overview": ({"activation": "identity"}, OVERVIEW),
    "tanh_minibatch": ({"batch_size": 16}, OVERVIEW),
    "tanh_offset": ({"phase_space": "offset_vs_lr"}, (-2.0, 1.0, -1.0, 3.0)),
    "momentum_lr": (
        {"optimizer": "momentum", "phase_space": "custom", "x_axis": "lr",
         "y_axis": "momentum", "y_scale": "linear"},
        (0.0, 3.0, 0.0, 0.99),
    ),
    "nesterov_cosine": (
        {"optimizer": "nesterov", "momentum": 0.8, "schedule": "cosine",
         "final_lr_fraction": 0.1},
        (-3.0, 3.0, -3.0, 3.0),
    ),
    "adam_lr_vs_lr": (
        {"optimizer": "adam", "phase_space": "custom", "x_axis": "lr_input",
         "y_axis": "lr_output"},
        (-1.0, 5.0, -1.0, 5.0),
    ),
    "adamw_warmup_beta2": (
        {"optimizer": "adam", "weight_decay": 0.01, "weight_decay_mode": "decoupled",
         "schedule": "warmup", "warmup_steps": 20, "phase_space": "custom", "x_axis": "lr",
         "y_axis": "beta2", "y_scale": "linear"},
        (-2.0, 2.5, 0.5, 0.999),
    ),
    "weight_decay_lr": (
        {"phase_space": "custom", "x_axis": "lr", "y_axis": "weight_decay"},
        (-2.0, 4.0, -4.0, 2.0),
    ),
}  # fmt: skip


def versions() -> dict:
    import jax
    import jaxlib

    out = {"jax": jax.__version__, "jaxlib": jaxlib.__version__, "numpy": np.__version__}
    try:
        import optax

        out["optax"] = optax.__version__
    except ImportError:
        pass
    return out


def make(name: str) -> dict:
    fields, bounds = GRIDS[name]
    fields = {"steps": STEPS, **fields}
    cond = independent.spec(**fields)
    x, y, values, labels = independent.grid(cond, bounds, PIXELS, PIXELS)
    _, _, moved, _ = independent.grid(cond, bounds, PIXELS, PIXELS, 1.0 + PROBE_STEP)
    sensitivity = np.abs(moved - values) / np.abs(values)
    window = dict(zip(("x_min", "x_max", "y_min", "y_max"), bounds, strict=True))
    window.update(nx=PIXELS, ny=PIXELS)
    return {
        "labels": labels,
        "values": values,
        "x": x,
        "y": y,
        "sensitivity": sensitivity,
        "condition": np.array(json.dumps(fields)),
        "resolved": np.array(json.dumps(independent.resolved(cond))),
        "window": np.array(json.dumps(window)),
        "versions": np.array(json.dumps(versions())),
    }


def main(names) -> None:
    OUT.mkdir(exist_ok=True)
    for name in names or GRIDS:
        start = time.perf_counter()
        data = make(name)
        np.savez_compressed(OUT / f"{name}.npz", **data)
        stable = (data["sensitivity"] <= 1e-8).sum()
        print(
            f"{name}: {data['labels'].mean():.0%} converged, {stable} insensitive pixels, "
            f"{time.perf_counter() - start:.1f} s"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
