"""The pixels of a window: where they sit, their hyperparameters and their initial weights.

Pixel p = row·nx + col of a window (row = y) trains one network. Its two axis values become
hyperparameters in one place, `pixel_table`; every hyperparameter that is not an axis is the
condition's field of the same name, and `hyperparameter` reads either inside a compiled step.
`initial_weights` starts each pixel's network:

    W_i = init_scale·W_i(seed) + ε·N(0, 1)   (per-pixel noise, ε = ``epsilon``),

then W_0 + c when ``offset_mode`` is ``init`` (c = ``offset``). With init_scale = 1 and ε = 0
(fixed) every pixel starts from exactly the seed's weights. With per-pixel seeds
(``seed_mode="per_pixel"``, ``pixel_draws`` weights or both) W_i(seed) is pixel p's own draw
(`trainability.models.mlp.draw_per_pixel`).
"""

from __future__ import annotations

import numpy as np

from trainability.core.condition import (
    AXES,
    FIXED_LR,
    FIXED_LR_HIDDEN,
    Condition,
    check_axis_values,
)
from trainability.core.precision import pixel_axes
from trainability.core.window import Window
from trainability.models.mlp import draw_per_pixel, draws_per_pixel, perturb_weights

INITIAL = ("init_scale", "epsilon")  # the axes read only when the weights are drawn


def axis_values(
    cond: Condition, window: Window, dtype: str = "float64"
) -> tuple[np.ndarray, np.ndarray]:
    """Pixel values (x, y) of ``window`` on the condition's scales, after the precision guard
    (`trainability.core.precision.pixel_axes`) and the check that every value lies in its
    axis's allowed interval (both before any work). ``dtype`` ``float64x2``: (n, 2) arrays of
    double-doubles (hi, lo) from the window's exact coordinates."""
    x, y = pixel_axes(cond, window, dtype)
    check_axis_values(cond, x if x.ndim == 1 else x[:, 0], y if y.ndim == 1 else y[:, 0])
    return x, y


def window_pixels(cond: Condition, window: Window, tile=None, tiles=(1, 1), dtype="float64"):
    """(x, y, xs, ys, pixel_index) of the window, or of its tile (i, j) of ``tiles``: the axis
    values, then per pixel (row-major) its x, its y and its index p in the whole window
    (``dtype`` as in `axis_values`; double-double values keep their trailing axis of 2)."""
    x_all, y_all = axis_values(cond, window, dtype)
    rows, cols = window.tile(*tile, tiles) if tile is not None else (slice(None), slice(None))
    x, y = x_all[cols], y_all[rows]
    row_index = np.arange(window.ny)[rows]
    col_index = np.arange(window.nx)[cols]
    pixel_index = (row_index[:, None] * window.nx + col_index[None, :]).ravel()
    each = x.shape[1:]  # () for doubles, (2,) for double-doubles
    xs = np.broadcast_to(x[None, :], (len(y), len(x)) + each).reshape((-1,) + each)
    ys = np.broadcast_to(y[:, None], (len(y), len(x)) + each).reshape((-1,) + each)
    return x, y, xs, ys, pixel_index


def pixel_table(cond: Condition, xs, ys, dtype=np.float64) -> dict[str, np.ndarray]:
    """The per-pixel hyperparameter table, the one place where axes become hyperparameters.

    ``lr`` is always there: the learning rate of each layer (P × depth), from the axes or the
    condition's fields by the rules of `trainability.core.condition`. Every other axis (momentum,
    beta1, beta2, weight_decay, warmup_steps, offset, init_scale, epsilon) adds one (P,) entry
    under its own name; a hyperparameter absent from the table is the condition's fixed field.
    Axis values of the float64x2 precision, (P, 2) double-doubles (hi, lo), give columns with
    that trailing axis (``lr``: P × depth × 2).
    """
    xs = np.asarray(xs, np.float64)
    ys = np.asarray(ys, np.float64)
    on_axis = dict(zip(cond.axis_names, (xs, ys), strict=True))
    fixed = {FIXED_LR: cond.lr, FIXED_LR_HIDDEN: cond.lr_hidden}
    columns = [on_axis[src] if src in on_axis else _fixed(xs, fixed[src])
               for src in cond.lr_sources()]  # fmt: skip
    table = {"lr": np.stack(columns, axis=1).astype(dtype)}
    for name, values in on_axis.items():
        if name in AXES and not name.startswith("lr"):
            table[name] = values.astype(dtype)
    return table


def _fixed(xs: np.ndarray, value: float) -> np.ndarray:
    """A fixed hyperparameter as a column like ``xs``: doubles, or double-doubles (P, 2)
    with lo = 0 (the field's double is exact)."""
    column = np.full_like(xs, value)
    if xs.ndim == 2:
        column[:, 1] = 0.0
    return column


def step_table(table: dict) -> dict:
    """The entries of a pixel table that the training step reads (all but `INITIAL`)."""
    return {k: v for k, v in table.items() if k not in INITIAL}


def hyperparameter(cond: Condition, hp: dict, name: str):
    """A hyperparameter broadcastable against pixel-major weights: its (P, 1, 1) column of the
    table ``hp`` when it is an axis, else the condition's field (a Python number)."""
    return hp[name][:, None, None] if name in hp else getattr(cond, name)


def initial_weights(cond: Condition, weights0, table: dict, pixel_index, dtype=np.float64):
    """Pixel-major W_i = init_scale·W_i(seed) + ε·N(0, 1), then + c on W_0 in init mode.
    The W_i may be any arrays: the mlp's matrices, or the leaves of another network
    (`trainability.models.networks`), whose conditions refuse the offset.

    ``weights0`` are the seed's weights (`trainability.models.mlp.init_problem`) in ``dtype``,
    ``table`` the pixels' rows of `pixel_table`, ``pixel_index`` their indices in the window
    (the noise of pixel p does not depend on where p is computed)."""
    n = len(pixel_index)
    scale = table.get("init_scale", cond.init_scale)
    epsilon = table.get("epsilon", cond.epsilon)
    noisy = "epsilon" in table or cond.epsilon > 0
    own = draws_per_pixel(cond, "weights")
    if own:  # pixel p's own W_i(seed), drawn from its key
        base = [np.asarray(w, dtype) for w in draw_per_pixel(cond, pixel_index, "weights")]
    else:
        base = [w[None] for w in weights0]
    if not own and "init_scale" not in table and cond.init_scale == 1.0:
        if noisy:
            start = perturb_weights(weights0, epsilon, cond.seed, pixel_index)
            weights = [np.array(w, dtype) for w in start]
        else:
            weights = [np.repeat(w, n, axis=0) for w in base]
    else:
        factor = np.broadcast_to(np.asarray(scale, dtype), (n,))
        weights = [factor.reshape((n,) + (1,) * (w.ndim - 1)) * w for w in base]
        if noisy:
            zeros = tuple(np.zeros_like(w) for w in weights0)
            noise = perturb_weights(zeros, epsilon, cond.seed, pixel_index)
            weights = [w + np.asarray(e, dtype) for w, e in zip(weights, noise, strict=True)]
    if cond.offset_mode == "init" and ("offset" in table or cond.offset != 0.0):
        offset = np.broadcast_to(np.asarray(table.get("offset", cond.offset), dtype), (n,))
        weights[0] = weights[0] + offset[:, None, None]
    return weights
