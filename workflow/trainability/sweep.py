"""The batched trainer: one gradient-descent run per pixel of a hyperparameter window.

Pixels are independent, so a window is cut into *blocks* of pixels whose state (weights,
streamed measure) is held pixel-major in host memory. Each block is advanced in *segments* of
``segment`` steps; a segment runs the whole step loop inside one compiled region (`lax.scan`)
over cache-sized *chunks* of ``chunk`` pixels, chunks running side by side on ``threads``
threads. Between segments the block is compacted: retired (diverged) pixels drop out, and the
live ones are packed into fewer chunks (the last padded with copies), so diverging regions of
the image cost only the steps they survive (`trainability.measure` proves this exact).

Per pixel and step t (papers.md §1.1), with W0 ← W0 + c first in ``every_step`` offset mode:
ℓ_t = ℓ(W; X, Y) on the full batch, g = ∇ℓ on the full batch or on minibatch t, and for plain
gradient descent W_i ← W_i − η_i·g_i. Weight decay, the optimizers (momentum, Nesterov, Adam;
their state is carried per pixel, pixel-major like the weights, through the scan and the
compaction) and learning-rate schedules follow `trainability.condition`; every choice among them
is made in Python when the segment is traced, so plain gradient descent compiles to the same
step as before they existed. Per-pixel hyperparameters (the two axes) reach the segment function
as one small table of arrays (`pixel_table`); fixed ones are constants from the condition.
Engines: ``fused`` (hand-written gradient, fast) and ``autodiff`` (`jax.grad` of the reference
loss, for validation) differ only in the gradient; the update is one code path. The result does
not depend on block, thread or tile sizes: every pixel's arithmetic is the same wherever it
sits. The chunk size is part of the numerical definition, like the dtype: XLA chooses its matrix
kernels by operand size, so another chunk size changes results in the last bits (and the labels
of a few chaotic boundary pixels). It is recorded in each result's metadata.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache, partial

import numpy as np

from trainability._jax import jax, jnp
from trainability.condition import (
    AXES,
    FIXED_LR,
    FIXED_LR_HIDDEN,
    Condition,
    check_axis_values,
)
from trainability.grid import Window
from trainability.io import Grid
from trainability.measure import RETIRE_FACTOR, Tally, tally_start, tally_step, tally_values
from trainability.model import (
    Problem,
    forward,
    fused_loss,
    fused_loss_and_grads,
    init_problem,
    perturb_weights,
    reference_loss,
)

ENGINES = ("fused", "autodiff")
DTYPES = ("float64", "float32")


@dataclass(frozen=True)
class Engine:
    """How a sweep is computed (never what): engine, precision and work decomposition."""

    name: str = "fused"
    dtype: str = "float64"
    chunk: int = 128
    segment: int = 25
    block: int = 8192
    threads: int = 1
    early_exit: bool = True

    def __post_init__(self) -> None:
        if self.name not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got {self.name!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}; got {self.dtype!r}")
        for name in ("chunk", "segment", "block", "threads"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


class SweepCancelled(Exception):
    """`sweep` stopped because its ``cancel`` callback asked it to."""


def default_chunk() -> int:
    """Pixels per compiled chunk: cache-sized on a CPU (larger chunks fall out of cache and run
    ~2x slower), large enough to fill an accelerator otherwise."""
    return 128 if jax.default_backend() == "cpu" else 16384


def sweep(
    cond: Condition,
    window: Window,
    engine: Engine = Engine(),
    tile: tuple[int, int] | None = None,
    tiles: tuple[int, int] = (1, 1),
    progress: bool = False,
    cancel: Callable[[], bool] | None = None,
) -> Grid:
    """Train one network per pixel of ``window`` (or of its tile (i, j) of ``tiles``).

    ``cancel`` is asked before every chunk of every segment; once it returns True the sweep
    raises `SweepCancelled` (chunks already running finish first, nothing is returned).
    """
    x_all, y_all = axis_values(cond, window)
    rows, cols = window.tile(*tile, tiles) if tile is not None else (slice(None), slice(None))
    x, y = x_all[cols], y_all[rows]
    row_index = np.arange(window.ny)[rows]
    col_index = np.arange(window.nx)[cols]
    pixel_index = (row_index[:, None] * window.nx + col_index[None, :]).ravel()
    xs = np.broadcast_to(x[None, :], (len(y), len(x))).ravel()
    ys = np.broadcast_to(y[:, None], (len(y), len(x))).ravel()

    problem = init_problem(cond)
    runner = _Runner(cond, problem, engine, cancel)
    n = xs.size
    values = np.empty(n)
    converged = np.empty(n, bool)
    diverged_at = np.empty(n, np.int32)
    probe = np.empty(n) if cond.readout == "probe" else None

    bar = _progress_bar(n, cond.steps, progress)
    start = time.perf_counter()
    with ThreadPoolExecutor(engine.threads) as pool:
        for a in range(0, n, engine.block):
            b = min(a + engine.block, n)
            out = runner.run_block(xs[a:b], ys[a:b], pixel_index[a:b], pool)
            values[a:b], converged[a:b], diverged_at[a:b] = out[:3]
            if probe is not None:
                probe[a:b] = out[3]
            if bar is not None:
                bar.update(b - a)
                rate = (b * cond.steps) / (time.perf_counter() - start)
                bar.set_postfix_str(f"{rate:,.0f} px-steps/s")
    if bar is not None:
        bar.close()

    shape = (len(y), len(x))
    return Grid(
        values=values.reshape(shape),
        converged=converged.reshape(shape),
        x=x,
        y=y,
        diverged_at=diverged_at.reshape(shape),
        probe=None if probe is None else probe.reshape(shape),
        meta=sweep_meta(cond, window, engine, tile, tiles),
    )


def axis_values(cond: Condition, window: Window) -> tuple[np.ndarray, np.ndarray]:
    """Pixel values (x, y) of ``window`` on the condition's scales, after the float64 guard and
    the check that every value lies in its axis's allowed interval (both before any work)."""
    x, y = window.axes(cond.x_scale, cond.y_scale)
    check_axis_values(cond, x, y)
    return x, y


def sweep_meta(cond, window, engine, tile, tiles) -> dict:
    """Everything needed to recompute a grid: condition, window, tile, engine, versions."""
    import trainability

    return {
        "condition": cond.to_dict(),
        "window": window.to_dict(),
        "tile": None if tile is None else list(tile),
        "tiles": list(tiles),
        "steps": cond.steps,
        "seed": cond.seed,
        "engine": engine.name,
        "dtype": engine.dtype,
        "chunk": engine.chunk,
        "early_exit": engine.early_exit,
        "versions": {
            "trainability": trainability.__version__,
            "jax": jax.__version__,
            "jaxlib": jax.lib.__version__ if hasattr(jax.lib, "__version__") else jax.__version__,
            "numpy": np.__version__,
        },
    }


class _Runner:
    """Advances blocks of pixels through training with one compiled segment function."""

    def __init__(self, cond: Condition, problem: Problem, engine: Engine, cancel=None):
        self.cond = cond
        self.engine = engine
        self.cancel = cancel
        dtype = np.dtype(engine.dtype)
        self.dtype = dtype
        self.weights0 = tuple(w.astype(dtype) for w in problem.weights)
        self.data = (
            jnp.asarray(problem.X, dtype),
            jnp.asarray(problem.Y, dtype),
            None if problem.minibatches is None else jnp.asarray(problem.minibatches),
            jnp.asarray(problem.x_probe, dtype),
        )
        self.segment_fn = _compiled_segment(
            cond, engine.name, engine.segment, _retire_factor(engine, cond)
        )

    def run_block(self, xs, ys, pixel_index, pool):
        cond, engine = self.cond, self.engine
        n = xs.size
        table = pixel_table(cond, xs, ys, self.dtype)
        weights = self.initial_weights(table, pixel_index)
        opt_state = [np.zeros_like(w) for _ in range(_OPT_SLOTS[cond.optimizer]) for w in weights]
        hp = {k: v for k, v in table.items() if k in _SEGMENT_KEYS}
        tally = [np.array(a) for a in tally_start(n, self.dtype)]
        probe = np.full(n, np.nan, self.dtype)

        live = np.arange(n)
        for t0 in range(0, cond.steps, engine.segment):
            if live.size == 0:
                break
            chunks = [live[i : i + engine.chunk] for i in range(0, live.size, engine.chunk)]

            def advance(idx, t0=t0):
                if self.cancel is not None and self.cancel():
                    raise SweepCancelled("the sweep was cancelled")
                padded = np.resize(idx, engine.chunk)  # pad the last chunk with copies
                state = (
                    tuple(w[padded] for w in weights),
                    tuple(s[padded] for s in opt_state),
                    Tally(*(a[padded] for a in tally)),
                    probe[padded],
                )
                chunk_hp = {k: v[padded] for k, v in hp.items()}
                out = self.segment_fn(state, chunk_hp, t0, self.data)
                return idx, jax.device_get(out)

            for idx, (w_new, s_new, tally_new, probe_new) in pool.map(advance, chunks):
                k = idx.size
                for w, w_n in zip(weights, w_new, strict=True):
                    w[idx] = w_n[:k]
                for a, a_n in zip(opt_state, s_new, strict=True):
                    a[idx] = a_n[:k]
                for a, a_n in zip(tally, tally_new, strict=True):
                    a[idx] = a_n[:k]
                probe[idx] = probe_new[:k]
            live = live[tally[4][live]]

        values, converged = tally_values(Tally(*tally), cond.steps)
        return values, converged, tally[5], probe.astype(np.float64)

    def initial_weights(self, table: dict, pixel_index) -> list[np.ndarray]:
        """Pixel-major W_i = init_scale·W_i(seed) + ε·N(0, 1), then + c on W_0 in init mode."""
        cond, n = self.cond, pixel_index.size
        scale = table.get("init_scale", cond.init_scale)
        epsilon = table.get("epsilon", cond.epsilon)
        noisy = "epsilon" in table or cond.epsilon > 0
        if "init_scale" not in table and cond.init_scale == 1.0:
            if noisy:
                start = perturb_weights(self.weights0, epsilon, cond.seed, pixel_index)
                weights = [np.array(w, self.dtype) for w in start]
            else:
                weights = [np.repeat(w[None], n, axis=0) for w in self.weights0]
        else:
            factor = np.broadcast_to(np.asarray(scale, self.dtype), (n,))[:, None, None]
            weights = [factor * w[None] for w in self.weights0]
            if noisy:
                zeros = tuple(np.zeros_like(w) for w in self.weights0)
                noise = perturb_weights(zeros, epsilon, cond.seed, pixel_index)
                weights = [
                    w + np.asarray(e, self.dtype) for w, e in zip(weights, noise, strict=True)
                ]
        if cond.offset_mode == "init" and ("offset" in table or cond.offset != 0.0):
            offset = np.broadcast_to(np.asarray(table.get("offset", cond.offset), self.dtype), (n,))
            weights[0] = weights[0] + offset[:, None, None]
        return weights


@lru_cache(maxsize=16)
def _compiled_segment(cond: Condition, engine_name: str, length: int, retire_factor):
    """The jitted segment function of a condition, kept for later sweeps of the same condition
    (tiles, keyframes, tests) so that each compiles once per process. A cache of pure
    functions: what it returns depends on the arguments only."""
    return jax.jit(
        partial(
            _segment,
            cond=cond,
            engine_name=engine_name,
            length=length,
            retire_factor=retire_factor,
        )
    )


def _retire_factor(engine: Engine, cond: Condition) -> float | None:
    """Early-exit rule (`trainability.measure`): none, non-finite losses only (the probe readout
    needs the final weights of every finite run), or the default threshold."""
    if not engine.early_exit:
        return None
    return RETIRE_FACTOR if cond.readout == "loss" else math.inf


# Arrays of optimizer state per weight matrix, and the per-pixel table entries the step reads.
_OPT_SLOTS = {"gd": 0, "momentum": 1, "nesterov": 1, "adam": 2}
_SEGMENT_KEYS = ("lr", "offset", "momentum", "beta1", "beta2", "weight_decay", "warmup_steps")


def pixel_table(cond: Condition, xs, ys, dtype=np.float64) -> dict[str, np.ndarray]:
    """The per-pixel hyperparameter table, the one place where axes become hyperparameters.

    ``lr`` is always there: the learning rate of each layer (P × depth), from the axes or the
    condition's fields by the rules of `trainability.condition`. Every other axis (momentum,
    beta1, beta2, weight_decay, warmup_steps, offset, init_scale, epsilon) adds one (P,) entry
    under its own name; a hyperparameter absent from the table is the condition's fixed field.
    """
    xs = np.asarray(xs, np.float64)
    ys = np.asarray(ys, np.float64)
    on_axis = dict(zip(cond.axis_names, (xs, ys), strict=True))
    fixed = {FIXED_LR: cond.lr, FIXED_LR_HIDDEN: cond.lr_hidden}
    columns = [
        on_axis[src] if src in on_axis else np.full_like(xs, fixed[src])
        for src in cond.lr_sources()
    ]
    table = {"lr": np.stack(columns, axis=1).astype(dtype)}
    for name, values in on_axis.items():
        if name in AXES and not name.startswith("lr"):
            table[name] = values.astype(dtype)
    return table


def _schedule_is_constant(cond: Condition, hp: dict) -> bool:
    """True when s(t) is exactly 1 at every step, so the multiply is left out."""
    if cond.schedule == "warmup":
        return "warmup_steps" not in hp and cond.warmup_steps == 0
    if cond.schedule == "cosine":
        return cond.final_lr_fraction == 1.0
    if cond.schedule == "step":
        return cond.decay_factor == 1.0
    return True


def _schedule(cond: Condition, hp: dict, t, dtype):
    """Learning-rate multiplier s(t) of step t: a scalar, or (P,) for a warmup_steps axis."""
    tf = jnp.asarray(t, dtype)
    if cond.schedule == "warmup":
        if "warmup_steps" in hp:
            w = hp["warmup_steps"]
            return jnp.where(w > 0, jnp.minimum(1.0, (tf + 1) / jnp.where(w > 0, w, 1.0)), 1.0)
        return jnp.minimum(1.0, (tf + 1) / cond.warmup_steps)
    if cond.schedule == "cosine":
        f = cond.final_lr_fraction
        return f + (1.0 - f) * 0.5 * (1.0 + jnp.cos(math.pi * tf / max(cond.steps - 1, 1)))
    if cond.schedule == "step":
        return jnp.power(
            jnp.asarray(cond.decay_factor, dtype), (t // cond.decay_every).astype(dtype)
        )
    raise AssertionError(cond.schedule)


def _per_pixel(hp: dict, name: str, value):
    """A hyperparameter broadcastable against pixel-major weights: (P, 1, 1) or a constant."""
    return hp[name][:, None, None] if name in hp else value


def _update(weights, grads, opt_state, t, hp, cond: Condition):
    """One optimizer step for a chunk (the module docstring of `trainability.condition`).

    Returns the new weights and optimizer state. Every branch is chosen in Python, so plain
    gradient descent is exactly W_i − η_i·g_i with no state, as it always was. The optimizers
    that are linear in the gradient (gd with l2 decay, momentum, nesterov) take the step in the
    split form W ← (W − η·g) − η·e, with e = d − g the part of the direction beyond plain
    gradient descent, built as such (λW for l2 decay, μv for heavy ball, μv' for Nesterov) and
    never by subtraction. With λ = 0 or μ = 0 (fixed or on an axis), e is exactly zero and the
    first term is the gradient-descent step operation for operation, so the result is plain
    gradient descent to the bit whatever the compiler rewrites (XLA folds the gradient's
    1/√fan_in into the learning rate, and contracts multiply-adds into FMAs, differently when
    the step reads a momentum buffer: the literal W − η·(μv + g) would differ in the last bits).
    """
    depth = len(weights)
    dtype = weights[0].dtype
    lrs = hp["lr"]
    if not _schedule_is_constant(cond, hp):
        s = _schedule(cond, hp, t, dtype)
        lrs = lrs * (s[:, None] if jnp.ndim(s) == 1 else s)
    lr = [lrs[:, i, None, None] for i in range(depth)]
    decay = None
    if "weight_decay" in hp or cond.weight_decay != 0.0:
        decay = _per_pixel(hp, "weight_decay", cond.weight_decay)
    l2 = decay is not None and cond.weight_decay_mode == "l2"

    if cond.optimizer == "adam":
        if l2:
            grads = tuple(g + decay * w for g, w in zip(grads, weights, strict=True))
        b1 = _per_pixel(hp, "beta1", cond.beta1)
        b2 = _per_pixel(hp, "beta2", cond.beta2)
        m = tuple(b1 * m + (1.0 - b1) * g for m, g in zip(opt_state[:depth], grads, strict=True))
        v = tuple(
            b2 * v + (1.0 - b2) * g * g for v, g in zip(opt_state[depth:], grads, strict=True)
        )
        k = jnp.asarray(t + 1, dtype)
        c1 = 1.0 - jnp.power(jnp.asarray(b1, dtype), k)
        c2 = 1.0 - jnp.power(jnp.asarray(b2, dtype), k)
        new = tuple(
            w - lr[i] * ((mi / c1) / (jnp.sqrt(vi / c2) + cond.adam_eps))
            for i, (w, mi, vi) in enumerate(zip(weights, m, v, strict=True))
        )
        opt_state = m + v
    else:
        extra = [decay * w for w in weights] if l2 else [None] * depth
        if cond.optimizer in ("momentum", "nesterov"):
            mu = _per_pixel(hp, "momentum", cond.momentum)
            total = [g if e is None else g + e for g, e in zip(grads, extra, strict=True)]
            velocity = tuple(mu * v + g for v, g in zip(opt_state, total, strict=True))
            looking = opt_state if cond.optimizer == "momentum" else velocity
            extra = [
                mu * v if e is None else e + mu * v for e, v in zip(extra, looking, strict=True)
            ]
            opt_state = velocity
        new = tuple(w - lr[i] * g for i, (w, g) in enumerate(zip(weights, grads, strict=True)))
        if extra[0] is not None:
            new = tuple(w - lr[i] * e for i, (w, e) in enumerate(zip(new, extra, strict=True)))
    if decay is not None and cond.weight_decay_mode == "decoupled":
        new = tuple(w - lr[i] * decay * w for i, w in enumerate(new))
    return new, opt_state


def _segment(state, hp, t0, data, *, cond, engine_name, length, retire_factor):
    """``length`` training steps of one chunk, from step t0, inside one `lax.scan`."""
    X, Y, minibatches, x_probe = data
    offset = None
    if cond.offset_mode == "every_step" and ("offset" in hp or cond.offset != 0.0):
        offset = _per_pixel(hp, "offset", cond.offset)
    act, residual = cond.activation, cond.residual

    if engine_name == "fused":
        loss_fn = partial(fused_loss, activation=act, residual=residual)
        grad_fn = partial(fused_loss_and_grads, activation=act, residual=residual)
    else:
        one_loss = partial(reference_loss, activation=act, residual=residual)
        grad_fn = jax.vmap(jax.value_and_grad(one_loss), in_axes=(0, None, None))
        loss_fn = jax.vmap(one_loss, in_axes=(0, None, None))

    def step(carry, s):
        weights, opt_state, tally, probe = carry
        t = t0 + s
        if offset is not None:
            weights = (weights[0] + offset,) + tuple(weights[1:])
        if minibatches is None:
            loss, grads = grad_fn(weights, X, Y)
        else:
            idx = minibatches[jnp.minimum(t, cond.steps - 1)]
            loss = loss_fn(weights, X, Y)
            grads = grad_fn(weights, X[idx], Y[idx])[1]
        if cond.readout == "probe":
            out = jax.vmap(forward, in_axes=(0, None, None, None))(weights, x_probe, act, residual)
            out = jnp.where(jnp.isfinite(out[:, 0, 0]), out[:, 0, 0], 1e6)
            probe = jnp.where(t == cond.steps - 1, out, probe)
        tally = tally_step(tally, loss, t, cond.steps, retire_factor)
        weights, opt_state = _update(weights, grads, opt_state, t, hp, cond)
        return (weights, opt_state, tally, probe), None

    carry, _ = jax.lax.scan(step, state, jnp.arange(length))
    return carry


def _progress_bar(n_pixels: int, steps: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=n_pixels, unit="px", delay=2.0, desc=f"sweep ({steps} steps)")
