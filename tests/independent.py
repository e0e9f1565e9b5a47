"""An independent reference implementation of the trainability experiment, written from the
equations of docs/methods.md (§1 the network, its data and its training, §2 the measure) and the
update rules of the condition's docstring, importing nothing from `trainability`.

Why: the engines used to be checked against a loop that called the library's own ``forward``,
``reference_loss``, ``init_problem`` and ``measure_trajectory``, so a mistake in one of those
would have been on both sides of every comparison. Everything below is written again, the
plain way: one pixel at a time, `jax.grad` of its own loss, a Python loop over the steps,
float64 throughout.

- **Draws** (§1, §4): key = PRNGKey(seed); (key, k) = split(key), W_i = normal(split(k, L)[i]);
  (key, k) = split(key), X = normal(k, (N, n)); (key, k) = split(key), Y = normal(k, (N, t));
  minibatch t = randint(split(PRNGKey(42), T)[t], (m,), 0, N), drawn one step at a time; the
  probe input = normal(PRNGKey(−1234567), (1, n)). ``draws: legacy`` is JAX ≤ 0.4's generator
  (``jax.threefry_partitionable(False)``), ``partitionable`` today's (switched on explicitly).
- **Network**: ŷ = (1/n)·φ(X·W0/√n)·W1 for one hidden layer; in general Z_i = H_i·W_i/√fan_in,
  H_{i+1} = φ(Z_i) (plus the residual branch H_i + φ(Z_i)/√(L − 2) for hidden-to-hidden blocks),
  ŷ = H_{L−1}·W_{L−1}/fan_in_{L−1}; φ = tanh(√2 z), √2·max(z, 0), z, or sigmoid(√2 z).
- **Loss**: mean over points and outputs of (ŷ − y)².
- **Measure** (§2): non-finite ℓ → 10⁶, v_t = min(ℓ_t/ℓ_0, 10⁶), converged iff the mean of the
  last 20 v_t is below 1; value −Σv if converged, +Σ1/v otherwise.
- **Training step** t (the condition's docstring): W_0 += c every step (``offset_mode:
  every_step``); ℓ_t on the full batch at the weights the step sees, g = ∇ℓ on the full batch or
  minibatch t; g += λW for l2 weight decay; the optimizer's direction d; W_i ← W_i − η_i·s(t)·d_i;
  then W_i ← W_i − η_i·s(t)·λ·W_i for decoupled weight decay (applied to the stepped weights).
  The optimizers follow optax (``optax.trace`` for heavy-ball and Nesterov momentum,
  ``optax.scale_by_adam`` with eps_root = 0 for Adam), imported only when a condition needs one.
- **Schedule** s(t): constant 1; warmup min(1, (t+1)/w); cosine f + (1−f)(1 + cos(πt/(T−1)))/2;
  step factor^⌊t/every⌋.

A *condition* here is any object with the attributes of `DEFAULTS` (the library's `Condition`
has them all, and `spec` builds a plain one): the reference reads its fields, nothing else.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

# The paper's condition (docs/methods.md §1) and the neutral values of every extension.
DEFAULTS = {
    "activation": "tanh",
    "width": 16,
    "depth": 2,
    "target_dim": 1,
    "dataset_ratio": 1.0,
    "dataset_size": None,
    "batch_size": None,
    "input_distribution": "normal",
    "draws": "legacy",
    "seed": 0,
    "steps": 500,
    "phase_space": "lr_vs_lr",
    "offset_mode": "every_step",
    "x_axis": None,
    "y_axis": None,
    "x_scale": "log",
    "y_scale": "log",
    "lr": 0.1,
    "lr_hidden": None,
    "offset": 0.0,
    "init_scale": 1.0,
    "residual": False,
    "optimizer": "gd",
    "momentum": 0.9,
    "beta1": 0.9,
    "beta2": 0.999,
    "adam_eps": 1e-8,
    "weight_decay": 0.0,
    "weight_decay_mode": "l2",
    "schedule": "constant",
    "warmup_steps": 0,
    "final_lr_fraction": 0.0,
    "decay_every": 100,
    "decay_factor": 0.5,
    "readout": "loss",
}

LOSS_CAP = 1e6
TAIL = 20
MINIBATCH_SEED = 42
PROBE_SEED = -1234567
ROOT2 = np.sqrt(2.0)
PHASE_AXES = {"lr_vs_lr": ("lr_even", "lr_odd"), "offset_vs_lr": ("offset", "lr")}


def spec(**fields) -> SimpleNamespace:
    """A condition: `DEFAULTS` with ``fields`` replaced (unknown names are refused)."""
    unknown = set(fields) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown condition fields {sorted(unknown)}")
    return SimpleNamespace(**{**DEFAULTS, **fields})


def resolved(cond) -> dict:
    """Every field of `DEFAULTS` as ``cond`` sets it."""
    return {name: getattr(cond, name) for name in DEFAULTS}


# ---------------------------------------------------------------------------------------------
# Draws


class Problem(NamedTuple):
    weights: tuple  # W_0 … W_{L−1}, numpy float64
    X: np.ndarray  # (N, n)
    Y: np.ndarray  # (N, t)
    minibatches: np.ndarray | None  # (T, m) indices, or None for full batch
    x_probe: np.ndarray  # (1, n)


def generator(draws: str):
    """The context in which jax.random draws as ``draws`` says."""
    if draws == "legacy":
        return jax.threefry_partitionable(False)
    if draws == "partitionable":
        return jax.threefry_partitionable(True)
    raise ValueError(draws)


def shapes(cond) -> list[tuple[int, int]]:
    n = cond.width
    return [(n, n)] * (cond.depth - 1) + [(n, cond.target_dim)]


def data_size(cond) -> int:
    """N: explicit, else the number of parameters (× ratio, per output), n for identity."""
    if cond.dataset_size is not None:
        return cond.dataset_size
    if cond.activation == "identity":
        return int(cond.width * cond.dataset_ratio)
    params = sum(a * b for a, b in shapes(cond))
    return int(params * cond.dataset_ratio / cond.target_dim)


def draw(cond) -> Problem:
    """Weights, data, minibatch indices and probe input of the seed scheme (module docstring)."""
    n, N = cond.width, data_size(cond)
    with generator(cond.draws):
        key = jax.random.PRNGKey(cond.seed)
        key, k = jax.random.split(key)
        layer_keys = jax.random.split(k, cond.depth)
        weights = tuple(
            np.asarray(jax.random.normal(layer_keys[i], shape, dtype=jnp.float64))
            for i, shape in enumerate(shapes(cond))
        )
        key, k = jax.random.split(key)
        if cond.input_distribution == "uniform":
            X = jax.random.uniform(k, (N, n), dtype=jnp.float64)
        else:
            X = jax.random.normal(k, (N, n), dtype=jnp.float64)
        key, k = jax.random.split(key)
        Y = jax.random.normal(k, (N, cond.target_dim), dtype=jnp.float64)
        minibatches = None
        if cond.batch_size is not None:
            step_keys = jax.random.split(jax.random.PRNGKey(MINIBATCH_SEED), cond.steps)
            minibatches = np.stack(
                [
                    np.asarray(jax.random.randint(step_keys[t], (cond.batch_size,), 0, N))
                    for t in range(cond.steps)
                ]
            )
        probe = jax.random.normal(jax.random.PRNGKey(PROBE_SEED), (1, n), dtype=jnp.float64)
    return Problem(weights, np.asarray(X), np.asarray(Y), minibatches, np.asarray(probe))


# ---------------------------------------------------------------------------------------------
# Network, loss, measure


def phi(activation: str, z):
    if activation == "tanh":
        return jnp.tanh(ROOT2 * z)
    if activation == "relu":
        return ROOT2 * jnp.maximum(z, 0.0)
    if activation == "identity":
        return z
    if activation == "sigmoid":
        return jax.nn.sigmoid(ROOT2 * z)  # the logistic function, stable where it saturates
    raise ValueError(activation)


def predict(weights, X, activation: str, residual: bool = False):
    """ŷ: Z_i = H_i·W_i/√fan_in, H_{i+1} = φ(Z_i) (residual blocks: H_i + φ(Z_i)/√(L−2)),
    ŷ = H_{L−1}·W_{L−1}/fan_in_{L−1} (the mean-field 1/n read-out)."""
    depth = len(weights)
    H = X
    for i, W in enumerate(weights[:-1]):
        A = phi(activation, H @ W / np.sqrt(W.shape[0]))
        H = H + A / np.sqrt(depth - 2) if residual and i >= 1 else A
    return H @ weights[-1] / weights[-1].shape[0]


def mse(weights, X, Y, activation: str, residual: bool = False):
    return jnp.mean((predict(weights, X, activation, residual) - Y) ** 2)


def measure(losses) -> tuple[float, bool]:
    """(value, converged) of one trajectory ℓ_0 … ℓ_{T−1} (docs/methods.md §2)."""
    ell = np.array(losses, dtype=np.float64)
    ell[~np.isfinite(ell)] = LOSS_CAP
    v = np.minimum(ell / ell[0], LOSS_CAP)
    converged = bool(np.mean(v[-TAIL:]) < 1.0)
    return (-float(np.sum(v)) if converged else float(np.sum(1.0 / v))), converged


# ---------------------------------------------------------------------------------------------
# Hyperparameters of a pixel


def axis_names(cond) -> tuple[str, str]:
    return PHASE_AXES.get(cond.phase_space, (cond.x_axis, cond.y_axis))


def pixel_hyperparameters(cond, x, y) -> dict:
    """The pixel's axis values by name (x, y = its coordinates on the two axes)."""
    names = axis_names(cond)
    return {names[0]: float(x), names[1]: float(y)}


def value_of(cond, hp: dict, name: str):
    """A hyperparameter: the pixel's axis value, else the condition's field."""
    return hp[name] if name in hp else getattr(cond, name)


def layer_rates(cond, hp: dict) -> list[float]:
    """η_i by the rules of the condition's docstring (the first rule naming the layer wins):
    axis lr_input / lr_output / lr_hidden; field lr_hidden (hidden layers); axis lr_even /
    lr_odd; axis lr; field lr."""
    depth = cond.depth
    rates = []
    for i in range(depth):
        hidden = 0 < i < depth - 1
        own = ("lr_input" if i == 0 else None, "lr_output" if i == depth - 1 else None)
        candidates = [name for name in own if name in hp]
        if hidden and "lr_hidden" in hp:
            candidates.append("lr_hidden")
        if candidates:
            rates.append(hp[candidates[0]])
        elif hidden and cond.lr_hidden is not None:
            rates.append(cond.lr_hidden)
        elif ("lr_even" if i % 2 == 0 else "lr_odd") in hp:
            rates.append(hp["lr_even" if i % 2 == 0 else "lr_odd"])
        elif "lr" in hp:
            rates.append(hp["lr"])
        else:
            rates.append(cond.lr)
    return rates


def multiplier(cond, hp: dict, t: int) -> float:
    """The schedule's s(t)."""
    if cond.schedule == "warmup":
        w = value_of(cond, hp, "warmup_steps")
        return 1.0 if w == 0 else min(1.0, (t + 1) / w)
    if cond.schedule == "cosine":
        f = cond.final_lr_fraction
        return f + (1.0 - f) * (1.0 + math.cos(math.pi * t / max(cond.steps - 1, 1))) / 2.0
    if cond.schedule == "step":
        return cond.decay_factor ** (t // cond.decay_every)
    return 1.0


def step_hyperparameters(cond, hp: dict, t: int) -> dict:
    """What step t reads besides the weights: offset, λ, μ, β1, β2 and s(t)."""
    names = ("offset", "weight_decay", "momentum", "beta1", "beta2")
    return {**{name: float(value_of(cond, hp, name)) for name in names},
            "s": multiplier(cond, hp, t)}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Optimizers (optax, where the library's definitions are optax's)


def transformation(cond, h):
    """The optax transformation of the condition's optimizer with step hyperparameters h
    (None for plain gradient descent)."""
    if cond.optimizer == "gd":
        return None
    import optax

    if cond.optimizer in ("momentum", "nesterov"):
        return optax.trace(decay=h["momentum"], nesterov=cond.optimizer == "nesterov")
    if cond.optimizer == "adam":
        return optax.scale_by_adam(b1=h["beta1"], b2=h["beta2"], eps=cond.adam_eps, eps_root=0.0)
    raise ValueError(cond.optimizer)


def initial_state(cond, weights):
    neutral = {"momentum": 0.0, "beta1": 0.0, "beta2": 0.0}
    tx = transformation(cond, neutral)
    return () if tx is None else tx.init(list(weights))


def make_step(cond, problem: Problem):
    """step(weights, state, rates, h, batch) -> (weights', state', ℓ_t, probe output), jitted:
    one training step of one pixel (module docstring); ``batch`` the minibatch indices or None."""
    act, residual = cond.activation, cond.residual
    X, Y = jnp.asarray(problem.X), jnp.asarray(problem.Y)
    probe_x = jnp.asarray(problem.x_probe)

    @jax.jit
    def step(weights, state, rates, h, batch):
        weights = list(weights)
        if cond.offset_mode == "every_step":
            weights[0] = weights[0] + h["offset"]
        loss = mse(weights, X, Y, act, residual)
        Xg, Yg = (X, Y) if batch is None else (X[batch], Y[batch])
        grads = jax.grad(mse)(weights, Xg, Yg, act, residual)
        if cond.weight_decay_mode == "l2":
            grads = [g + h["weight_decay"] * w for g, w in zip(grads, weights, strict=True)]
        tx = transformation(cond, h)
        if tx is None:
            directions = grads
        else:
            directions, state = tx.update(grads, state)
        etas = [r * h["s"] for r in rates]
        new = [w - eta * d for w, eta, d in zip(weights, etas, directions, strict=True)]
        if cond.weight_decay_mode == "decoupled":
            new = [w - eta * h["weight_decay"] * w for w, eta in zip(new, etas, strict=True)]
        probe = predict(weights, probe_x, act, residual)[0, 0]
        return new, state, loss, probe

    return step


def starting_weights(cond, problem: Problem, hp: dict, weights=None) -> list:
    """init_scale·W(seed) (or the given ``weights``), then W_0 + c once in init-offset mode."""
    if weights is None:
        scale = value_of(cond, hp, "init_scale")
        weights = [scale * jnp.asarray(w) for w in problem.weights]
    weights = [jnp.asarray(w) for w in weights]
    if cond.offset_mode == "init":
        weights[0] = weights[0] + value_of(cond, hp, "offset")
    return weights


def train(cond, problem: Problem, step, x, y, weights=None, rate_factor=1.0):
    """(losses, final probe output) of the pixel at axis values (x, y); ``rate_factor``
    multiplies every learning rate (for measuring a pixel's sensitivity)."""
    if getattr(cond, "seed_mode", "shared") != "shared":
        raise NotImplementedError("the independent reference draws one network per condition")
    hp = pixel_hyperparameters(cond, x, y)
    if weights is None and (hp.get("epsilon") or getattr(cond, "epsilon", 0.0)):
        raise NotImplementedError("perturbed initial weights must be given (``weights``)")
    rates = [float(r) * rate_factor for r in layer_rates(cond, hp)]
    w = starting_weights(cond, problem, hp, weights)
    state = initial_state(cond, w)
    losses, probe = [], np.nan
    for t in range(cond.steps):
        batch = None if problem.minibatches is None else jnp.asarray(problem.minibatches[t])
        w, state, loss, probe = step(w, state, rates, step_hyperparameters(cond, hp, t), batch)
        losses.append(float(loss))
    return np.array(losses), float(probe)


def pixels(cond, xs, ys, perturbed=None, rate_factor=1.0):
    """(values, converged, probes) of the pixels (xs[k], ys[k]); ``perturbed[k]``: pixel k's
    own initial weights (the follow-up report's noise, drawn by the caller)."""
    problem = draw(cond)
    step = make_step(cond, problem)
    values, converged, probes = [], [], []
    for k, (x, y) in enumerate(zip(xs, ys, strict=True)):
        start = None if perturbed is None else perturbed[k]
        losses, probe = train(cond, problem, step, x, y, start, rate_factor)
        value, ok = measure(losses)
        values.append(value)
        converged.append(ok)
        probes.append(probe if np.isfinite(probe) else LOSS_CAP)
    return np.array(values), np.array(converged), np.array(probes)


def axis(lo: float, hi: float, n: int, scale: str) -> np.ndarray:
    """Pixel values of one axis: logspace of log10 bounds (the reference's jnp.logspace), or
    linspace of the values."""
    if scale == "linear":
        return np.linspace(lo, hi, n)
    return np.asarray(jnp.logspace(lo, hi, n, dtype=jnp.float64))


def grid(cond, bounds, nx: int, ny: int, rate_factor=1.0):
    """(x, y, values, converged) of a window: row i is y[i], column j is x[j]."""
    x = axis(bounds[0], bounds[1], nx, cond.x_scale)
    y = axis(bounds[2], bounds[3], ny, cond.y_scale)
    xs = np.tile(x, ny)
    ys = np.repeat(y, nx)
    values, converged, _ = pixels(cond, xs, ys, rate_factor=rate_factor)
    return x, y, values.reshape(ny, nx), converged.reshape(ny, nx)
