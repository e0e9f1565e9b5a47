"""`Condition`: everything that defines one experiment of the study, validated.

A condition fixes the network (activation, width, depth, residual connections, output
dimension), the data (size, input distribution, seed), the training (steps, minibatch, optimizer,
weight decay, learning-rate schedule, weight perturbation) and the meaning of the two grid axes
(the *phase space*). Only the hyperparameter window and the numerical engine are left out: they
say *where* and *how* the condition is computed, not *what* it is.

Phase spaces (Sohl-Dickstein 2024, papers.md §1.1):

- ``lr_vs_lr``: x = learning rate of the even-numbered weight matrices (the input layer),
  y = learning rate of the odd-numbered ones (the output layer of the one-hidden-layer net);
  the axes ``(lr_even, lr_odd)`` of the registry below.
- ``offset_vs_lr``: x = a constant c added to every entry of the input weight matrix W0,
  y = one learning rate shared by all layers; the axes ``(offset, lr)``.
  ``offset_mode="every_step"`` adds c before every step, as the reference code does
  (W0 ← W0 + c − η∇ℓ(W0 + c)); ``"init"`` adds it once.
- ``custom``: x = ``x_axis``, y = ``y_axis``, any two distinct names of `AXES`.

Each axis is sampled on a ``log`` scale (window bounds are log10 values, pixel values
``logspace``; the default and the paper's way) or a ``linear`` one (window bounds are the values
themselves, pixel values ``linspace``): ``x_scale``, ``y_scale``. Every hyperparameter that is not
an axis takes its fixed value from the condition's field of the same name.

Learning rate of layer i (the first rule that names the layer wins; two axes of one rule may not
both name it):

1. an axis ``lr_input`` (W_0), ``lr_output`` (W_{L−1}) or ``lr_hidden`` (W_1 … W_{L−2});
2. the field ``lr_hidden`` for a hidden-to-hidden matrix, when it is not None;
3. an axis ``lr_even`` (W_0, W_2, …) or ``lr_odd`` (W_1, W_3, …);
4. an axis ``lr`` (every layer not named above);
5. the field ``lr``.

Training step t = 0 … T−1 for every weight matrix W with rate η (papers.md §1.1 is plain GD):

- ``offset_mode="every_step"``: W_0 ← W_0 + c first (c = the offset axis or field ``offset``);
- g = ∇ℓ(W), on the full batch or minibatch t; ``weight_decay_mode="l2"``: g ← g + λW;
- ``optimizer``: ``gd`` d = g; ``momentum`` (heavy ball) v ← μv + g, d = v; ``nesterov``
  v ← μv + g, d = g + μv; ``adam`` m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²,
  d = m̂/(√v̂ + eps) with m̂ = m/(1 − β1^(t+1)), v̂ = v/(1 − β2^(t+1)); state starts at zero;
- W ← W − η·s(t)·d; ``weight_decay_mode="decoupled"`` (AdamW style, after the optimizer step,
  on the updated weights): W ← W − η·s(t)·λ·W.

Schedules s(t): ``constant`` 1; ``warmup`` min(1, (t+1)/warmup_steps) (1 when warmup_steps = 0);
``cosine`` f + (1 − f)·(1 + cos(π·t/(T−1)))/2 with f = final_lr_fraction (s(0) = 1, s(T−1) = f);
``step`` decay_factor^⌊t/decay_every⌋.

Initial weights: W_i = init_scale·W_i(seed) + ε·N(0, 1) (per-pixel noise, ε = ``epsilon``),
then + c on W_0 when ``offset_mode="init"``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

ACTIVATIONS = ("tanh", "relu", "identity", "sigmoid")
PHASE_SPACES = ("lr_vs_lr", "offset_vs_lr", "custom")
OFFSET_MODES = ("every_step", "init")
INPUT_DISTRIBUTIONS = ("normal", "uniform")
DRAWS = ("legacy", "partitionable")
READOUTS = ("loss", "probe")
OPTIMIZERS = ("gd", "momentum", "nesterov", "adam")
WEIGHT_DECAY_MODES = ("l2", "decoupled")
SCHEDULES = ("constant", "warmup", "cosine", "step")
SCALES = ("log", "linear")
MAX_DEPTH = 10_000


class ConditionError(ValueError):
    """A condition field has a value outside its allowed set (message names the field)."""


@dataclass(frozen=True)
class Axis:
    """One hyperparameter that may span a grid axis: its meaning and allowed interval."""

    name: str
    meaning: str
    low: float = 0.0
    high: float = math.inf
    high_open: bool = False  # the interval is [low, high) rather than [low, high]

    def contains(self, value: float) -> bool:
        below = value < self.high if self.high_open else value <= self.high
        return bool(self.low <= value and below and math.isfinite(value))

    @property
    def interval(self) -> str:
        return f"[{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"


AXES: dict[str, Axis] = {
    a.name: a
    for a in (
        Axis("lr", "learning rate of every layer no other rule names"),
        Axis("lr_input", "learning rate of the input matrix W_0"),
        Axis("lr_output", "learning rate of the output matrix W_{L-1}"),
        Axis("lr_hidden", "learning rate of the hidden-to-hidden matrices (depth >= 3)"),
        Axis("lr_even", "learning rate of W_0, W_2, ... (the reference's x axis)"),
        Axis("lr_odd", "learning rate of W_1, W_3, ... (the reference's y axis)"),
        Axis("momentum", "momentum mu (optimizer momentum or nesterov)", 0.0, 1.0, True),
        Axis("beta1", "Adam's first-moment decay beta1", 0.0, 1.0, True),
        Axis("beta2", "Adam's second-moment decay beta2", 0.0, 1.0, True),
        Axis("weight_decay", "weight decay lambda (per weight_decay_mode)"),
        Axis("warmup_steps", "length of the linear warm-up (schedule warmup; may be fractional)"),
        Axis("offset", "constant c added to every entry of W_0 (per offset_mode)", -math.inf),
        Axis("init_scale", "factor multiplying every initial weight"),
        Axis("epsilon", "scale of the per-pixel initial weight noise epsilon*N(0,1)"),
    )
}
LR_AXES = ("lr", "lr_input", "lr_output", "lr_hidden", "lr_even", "lr_odd")
FIXED_LR = "field lr"
FIXED_LR_HIDDEN = "field lr_hidden"


@dataclass(frozen=True)
class Condition:
    """One experiment: network, data and training. Defaults are the paper's tanh condition.

    Fields added to the paper's setup (the module docstring gives the update equations):
    ``optimizer`` (gd, momentum, nesterov, adam), ``momentum`` μ ∈ [0, 1), ``beta1``, ``beta2``
    ∈ [0, 1), ``adam_eps`` > 0, ``weight_decay`` λ ≥ 0 with ``weight_decay_mode`` (l2,
    decoupled), ``schedule`` (constant, warmup, cosine, step) with ``warmup_steps``,
    ``final_lr_fraction``, ``decay_every``, ``decay_factor``; ``residual`` connections between
    hidden layers (see `trainability.model`), ``lr_hidden`` (rate of the hidden-to-hidden
    matrices, None = the phase space's rule), ``lr`` (rate of every layer no axis sets, in the
    custom phase space), ``offset`` and ``init_scale`` (fixed values when not an axis);
    ``x_axis``/``y_axis`` (custom phase space only) and ``x_scale``/``y_scale`` (log, linear).

    ``draws`` says how the seed becomes weights, data and minibatches: ``legacy`` (default) is
    JAX's random generator as JAX 0.4 ran it (``jax_threefry_partitionable`` off), the draws of
    the paper's 2024 notebook; ``partitionable`` is today's JAX default, which draws other
    networks from the same seed (docs/methods.md, "The paper's networks").

    Axis names (`AXES`): lr (all layers), lr_input (W_0), lr_output (last matrix), lr_hidden
    (hidden-to-hidden matrices), lr_even, lr_odd (the reference's rule), momentum, beta1, beta2,
    weight_decay, warmup_steps, offset (added to W_0 per offset_mode), init_scale (multiplies
    the initial weights), epsilon (per-pixel initial weight noise).
    """

    activation: str = "tanh"
    width: int = 16
    depth: int = 2
    target_dim: int = 1
    dataset_ratio: float = 1.0
    dataset_size: int | None = None
    batch_size: int | None = None
    input_distribution: str = "normal"
    draws: str = "legacy"
    phase_space: str = "lr_vs_lr"
    offset_mode: str = "every_step"
    steps: int = 500
    seed: int = 0
    epsilon: float = 0.0
    readout: str = "loss"
    optimizer: str = "gd"
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    adam_eps: float = 1e-8
    weight_decay: float = 0.0
    weight_decay_mode: str = "l2"
    schedule: str = "constant"
    warmup_steps: int = 0
    final_lr_fraction: float = 0.0
    decay_every: int = 100
    decay_factor: float = 0.5
    residual: bool = False
    lr_hidden: float | None = None
    lr: float = 0.1
    offset: float = 0.0
    init_scale: float = 1.0
    x_axis: str | None = None
    y_axis: str | None = None
    x_scale: str = "log"
    y_scale: str = "log"

    def __post_init__(self) -> None:
        _choice("activation", self.activation, ACTIVATIONS)
        _choice("phase_space", self.phase_space, PHASE_SPACES)
        _choice("offset_mode", self.offset_mode, OFFSET_MODES)
        _choice("input_distribution", self.input_distribution, INPUT_DISTRIBUTIONS)
        _choice("draws", self.draws, DRAWS)
        _choice("readout", self.readout, READOUTS)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("weight_decay_mode", self.weight_decay_mode, WEIGHT_DECAY_MODES)
        _choice("schedule", self.schedule, SCHEDULES)
        _choice("x_scale", self.x_scale, SCALES)
        _choice("y_scale", self.y_scale, SCALES)
        _at_least("width", self.width, 1)
        _at_least("depth", self.depth, 1)
        _at_least("target_dim", self.target_dim, 1)
        _at_least("steps", self.steps, 1)
        _at_least("warmup_steps", self.warmup_steps, 0)
        _at_least("decay_every", self.decay_every, 1)
        _at_least("seed", self.seed, 0)
        if self.depth > MAX_DEPTH:  # before anything loops over the layers
            raise ConditionError(
                f"depth must be at most {MAX_DEPTH} (each layer is traced on its own), "
                f"got {self.depth}"
            )
        params = self.width * self.width * (self.depth - 1) + self.width * self.target_dim
        if params >= 2**31:
            raise ConditionError(
                f"width {self.width}, depth {self.depth} and target_dim {self.target_dim} give "
                f"2**31 or more parameters per network (16 GiB per pixel); make it smaller"
            )
        if self.seed >= 2**32:  # folded into the noise keys as uint32 (model.perturb_weights)
            raise ConditionError(f"seed must be an integer below 2**32, got {self.seed}")
        if self.dataset_size is not None:
            _at_least("dataset_size", self.dataset_size, 1)
        if not (self.dataset_ratio > 0 and math.isfinite(self.dataset_ratio)):
            raise ConditionError(
                f"dataset_ratio must be a finite number > 0, got {self.dataset_ratio}"
            )
        _in_interval("epsilon", self.epsilon, AXES["epsilon"])
        for name in ("momentum", "beta1", "beta2"):
            _in_interval(name, getattr(self, name), AXES[name])
        for name in ("weight_decay", "lr", "init_scale", "final_lr_fraction"):
            _in_interval(name, getattr(self, name), Axis(name, ""))
        _in_interval("offset", self.offset, AXES["offset"])
        if not (self.adam_eps > 0 and math.isfinite(self.adam_eps)):
            raise ConditionError(f"adam_eps must be a finite number > 0, got {self.adam_eps}")
        if not (self.decay_factor > 0 and math.isfinite(self.decay_factor)):
            raise ConditionError(
                f"decay_factor must be a finite number > 0, got {self.decay_factor}"
            )
        if not isinstance(self.residual, bool):
            raise ConditionError(f"residual must be true or false, got {self.residual!r}")
        if self.residual and self.depth < 3:
            raise ConditionError(
                f"residual needs depth >= 3 (hidden-to-hidden layers), got depth {self.depth}"
            )
        if self.lr_hidden is not None:
            _in_interval("lr_hidden", self.lr_hidden, Axis("lr_hidden", ""))
            if self.depth < 3:
                raise ConditionError(
                    f"lr_hidden needs depth >= 3 (hidden-to-hidden layers), got depth {self.depth}"
                )
        if self.batch_size is not None:
            _at_least("batch_size", self.batch_size, 1)
            if self.batch_size > self.n_data:
                raise ConditionError(
                    f"batch_size must be <= the data set size {self.n_data}, got {self.batch_size}"
                )
        if self.n_data < 1:
            raise ConditionError(
                f"dataset_ratio {self.dataset_ratio} gives an empty data set; raise it"
            )
        self._check_axes()

    def _check_axes(self) -> None:
        if self.phase_space != "custom":
            for name in ("x_axis", "y_axis"):
                if getattr(self, name) is not None:
                    raise ConditionError(
                        f"{name} is only read with phase_space custom, got phase_space "
                        f"{self.phase_space!r}; drop {name} or set phase_space custom"
                    )
            return
        for name in ("x_axis", "y_axis"):
            _choice(name, getattr(self, name), tuple(AXES))
        if self.x_axis == self.y_axis:
            raise ConditionError(f"x_axis and y_axis must differ, both are {self.x_axis!r}")
        needs = {
            "momentum": ("optimizer", ("momentum", "nesterov")),
            "beta1": ("optimizer", ("adam",)),
            "beta2": ("optimizer", ("adam",)),
            "warmup_steps": ("schedule", ("warmup",)),
        }
        sources = self.lr_sources()
        for which, name in zip(("x_axis", "y_axis"), self.axis_names, strict=True):
            if name in needs:
                field, allowed = needs[name]
                if getattr(self, field) not in allowed:
                    raise ConditionError(
                        f"{which} {name} needs {field} {' or '.join(allowed)}, "
                        f"got {getattr(self, field)!r}"
                    )
            if name in LR_AXES and name not in sources:
                raise ConditionError(
                    f"{which} {name} sets no layer's learning rate at depth {self.depth} "
                    "with the other axis and lr_hidden as given"
                )

    @property
    def axis_names(self) -> tuple[str, str]:
        """Registry names of the (x, y) axes: the phase space's, or x_axis/y_axis if custom."""
        if self.phase_space == "lr_vs_lr":
            return ("lr_even", "lr_odd")
        if self.phase_space == "offset_vs_lr":
            return ("offset", "lr")
        return (self.x_axis, self.y_axis)

    def lr_sources(self) -> tuple[str, ...]:
        """Where each layer's learning rate comes from: an axis name, `FIXED_LR_HIDDEN` or
        `FIXED_LR` (the rules of the module docstring)."""
        axes = [a for a in self.axis_names if a in LR_AXES]
        depth = self.depth
        names = {
            "lr": range(depth),
            "lr_input": (0,),
            "lr_output": (depth - 1,),
            "lr_hidden": range(1, depth - 1),
            "lr_even": range(0, depth, 2),
            "lr_odd": range(1, depth, 2),
        }
        sources = []
        for i in range(depth):
            hidden = 0 < i < depth - 1
            for tier in (
                ("lr_input", "lr_output", "lr_hidden"),
                (FIXED_LR_HIDDEN,) if hidden and self.lr_hidden is not None else (),
                ("lr_even", "lr_odd"),
                ("lr",),
            ):
                hits = [a for a in tier if a == FIXED_LR_HIDDEN or (a in axes and i in names[a])]
                if len(hits) > 1:
                    raise ConditionError(
                        f"x_axis and y_axis ({hits[0]}, {hits[1]}) both set the learning rate "
                        f"of layer {i} at depth {depth}; choose axes that name different layers"
                    )
                if hits:
                    sources.append(hits[0])
                    break
            else:
                sources.append(FIXED_LR)
        return tuple(sources)

    @property
    def layer_shapes(self) -> tuple[tuple[int, int], ...]:
        """(fan_in, fan_out) of each weight matrix: n×n hidden maps, then n×target_dim."""
        n = self.width
        return tuple((n, n if i < self.depth - 1 else self.target_dim) for i in range(self.depth))

    @property
    def n_params(self) -> int:
        return sum(a * b for a, b in self.layer_shapes)

    @property
    def n_data(self) -> int:
        """Data set size N (papers.md §1.1): explicit, else ratio × n_params / target_dim,
        or ratio × width for the identity network (a linear map has `width` free directions)."""
        if self.dataset_size is not None:
            return self.dataset_size
        if self.activation == "identity":
            return int(self.width * self.dataset_ratio)
        return int(self.n_params * self.dataset_ratio / self.target_dim)

    def replace(self, **changes) -> Condition:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def check_axis_values(cond: Condition, x, y) -> None:
    """Refuse a window whose pixel values leave an axis's allowed interval (`AXES`)."""
    for which, name, scale, values in (
        ("x", cond.axis_names[0], cond.x_scale, x),
        ("y", cond.axis_names[1], cond.y_scale, y),
    ):
        axis = AXES[name]
        lo, hi = float(min(values)), float(max(values))
        if not (axis.contains(lo) and axis.contains(hi)):
            bounds = "log10 bounds give" if scale == "log" else "bounds are"
            raise ConditionError(
                f"the window's {which} axis ({name}) must stay inside {axis.interval}, but its "
                f"{bounds} values from {lo!r} to {hi!r}"
            )


def _choice(name: str, value, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConditionError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def _at_least(name: str, value, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ConditionError(f"{name} must be an integer >= {low}, got {value!r}")


def _in_interval(name: str, value, axis: Axis) -> None:
    try:
        ok = axis.contains(float(value))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConditionError(f"{name} must be a finite number in {axis.interval}, got {value!r}")
