"""`Condition`: everything that defines one experiment of the study, validated.

A condition fixes the network (activation, width, depth, residual connections, output
dimension), the data (size, input distribution, seed), the training (steps, minibatch, optimizer,
weight decay, learning-rate schedule, weight perturbation) and the meaning of the two grid axes
(the *phase space*). Only the hyperparameter window and the numerical engine are left out: they
say *where* and *how* the condition is computed, not *what* it is.

Phase spaces (Sohl-Dickstein 2024, docs/methods.md §1):

- ``lr_vs_lr``: x = learning rate of the even-numbered weight matrices (the input layer),
  y = learning rate of the odd-numbered ones (the output layer of the one-hidden-layer net);
  the axes ``(lr_even, lr_odd)`` of the registry below.
- ``offset_vs_lr``: x = a constant c added to every entry of the input weight matrix W0,
  y = one learning rate shared by all layers; the axes ``(offset, lr)``.
  ``offset_mode="every_step"`` adds c before every step, as the reference code does
  (W0 ← W0 + c − η∇ℓ(W0 + c)); ``"init"`` adds it once.
- ``custom``: x = ``x_axis``, y = ``y_axis``, any two distinct names of `AXES`.

Networks (``model``) and data (``data``): ``mlp`` is the paper's network (everything above);
``cnn`` (two 3×3 convolutions and a dense readout, `trainability.models.cnn`) and
``transformer`` (one attention block over an image's 8 rows, `trainability.models.transformer`)
train on ``digits`` (scikit-learn's 8×8 handwritten digits, `trainability.models.datasets`),
as the mlp may too (the image flattened to 64 inputs). Gaussian data trains with the mean
squared error, digits with the cross-entropy of 10 classes; a condition that names no
``activation`` takes its network's own (`DEFAULT_ACTIVATIONS`: relu for the cnn, whose tanh
network has one phase under the cross-entropy). Each network's parameters fall
into named *groups* (`MODEL_GROUPS`): the mlp's ``input``, ``hidden`` and ``output``
matrices, the cnn's ``conv1``, ``conv2`` and ``dense`` layers, the transformer's
``embedding``, ``attention``, ``feedforward`` and ``readout``. Any network but the mlp on
gaussian data is trained by the generic path (`Condition.generic`,
`trainability.train.arithmetics.generic`). ``lr_vs_lr`` is then the learning rate of the
first group (x) against that of the last (y): (lr_conv1, lr_dense), (lr_embedding,
lr_readout); the mlp's stays (lr_even, lr_odd).

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

Learning rate of a group of the cnn or the transformer: the axis ``lr_<group>`` if there is
one, else an axis ``lr``, else the field ``lr``.

What a field does to training is written where it is done: `trainability.train.step` (one training
step: offset, gradient, weight decay, learning rates, schedule), `trainability.train.optimizers`
(gd, momentum, nesterov, adam), `trainability.train.schedules`, and `trainability.train.pixels` (the
per-pixel hyperparameters and initial weights).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from trainability.core.fields import (
    Interval,
    boolean,
    check_fields,
    choice,
    integer,
    number,
    reference_table,
    schema_yaml,
    specs,
)

ACTIVATIONS = ("tanh", "relu", "identity", "sigmoid")
PHASE_SPACES = ("lr_vs_lr", "offset_vs_lr", "custom")
OFFSET_MODES = ("every_step", "init")
INPUT_DISTRIBUTIONS = ("normal", "uniform")
DRAWS = ("legacy", "partitionable")
SEED_MODES = ("shared", "per_pixel")
PIXEL_DRAWS = ("weights", "data", "both")
READOUTS = ("loss", "probe")
OPTIMIZERS = ("gd", "momentum", "nesterov", "adam")
WEIGHT_DECAY_MODES = ("l2", "decoupled")
SCHEDULES = ("constant", "warmup", "cosine", "step")
SCALES = ("log", "linear")
MAX_DEPTH = 10_000
MODELS = ("mlp", "cnn", "transformer")
DATA = ("gaussian", "digits")
LOSSES = ("mse", "cross_entropy")
# the parameter groups of each network, input side first (each has an axis lr_<group>)
MODEL_GROUPS = {
    "mlp": ("input", "hidden", "output"),
    "cnn": ("conv1", "conv2", "dense"),
    "transformer": ("embedding", "attention", "feedforward", "readout"),
}
# the nonlinearity a network gets when none is named: the paper's tanh, but relu for the cnn —
# a tanh cnn trained with the cross-entropy has no untrainable phase up to 10^8 on either
# learning-rate axis (large steps saturate the softmax), so its plane would hold one phase
# (docs/real_networks.md)
DEFAULT_ACTIVATIONS = {"mlp": "tanh", "cnn": "relu", "transformer": "tanh"}
# scikit-learn's digits: 1797 images of 8×8 pixels, 10 classes (`trainability.models.datasets`)
DIGITS_IMAGES, DIGITS_SIDE, DIGITS_CLASSES = 1797, 8, 10
FEEDFORWARD_FACTOR = 2  # the transformer's feed-forward width, in units of d_model

# The groups of fields, in the order the CLI and config/README.md list them: key -> title.
GROUPS = {
    "network": "network",
    "data": "data",
    "initial": "initial weights",
    "training": "training",
    "optimizer": "optimizer and weight decay",
    "schedule": "learning-rate schedule s(t), multiplying every layer's rate",
    "axes": "phase space: the grid's two axes, and the values of hyperparameters that are not one",
}


class ConditionError(ValueError):
    """A condition field has a value outside its allowed set (message names the field)."""


@dataclass(frozen=True)
class Axis:
    """One hyperparameter that may span a grid axis: its title (how figures label the axis),
    meaning and allowed interval."""

    name: str
    title: str
    meaning: str
    interval: Interval
    needs: tuple[str, tuple[str, ...]] | None = None  # (field, values) it is only read with

    def contains(self, value: float) -> bool:
        return self.interval.contains(value)


def _axis_names() -> tuple[str, ...]:
    """The names x_axis and y_axis may take (`AXES`, built from the declarations below)."""
    return tuple(AXES)


MLP_LR_AXES = ("lr_input", "lr_output", "lr_hidden", "lr_even", "lr_odd")
GROUP_LR_AXES = tuple(f"lr_{g}" for m, groups in MODEL_GROUPS.items() if m != "mlp"
                      for g in groups)  # fmt: skip
LR_AXES = ("lr", *MLP_LR_AXES, *GROUP_LR_AXES)
FIXED_LR = "field lr"
FIXED_LR_HIDDEN = "field lr_hidden"


@dataclass(frozen=True)
class Condition:
    """One experiment: network, data and training. Defaults are the paper's tanh condition.

    Each field is declared once below (`trainability.core.fields`): kind, default, allowed values,
    help text, group, whether it may span an axis (and the axis's title), and the value of
    another field it is only read with (``needs``). The checks, the ``sweep`` flags, the
    schema's condition properties, the table of ``config/README.md``, the axes' registry `AXES`
    and the report's description of the settings (`trainability.report.describe`) all come
    from there; the cross-field rules follow in `__post_init__`. The module docstring says
    where each field acts.
    """

    activation: str | None = choice(
        None,
        ACTIVATIONS,
        "network",
        "hidden nonlinearity: tanh(√2z), √2·relu(z), z, sigmoid(√2z); null: the network's "
        "own (relu for the cnn, tanh for the others)",
        nullable=True,
    )
    width: int = integer(
        16, "network", "mlp: hidden width n, also the input dimension on gaussian data", low=1
    )
    depth: int = integer(
        2,
        "network",
        "mlp: number of weight matrices (2 = one hidden layer, the paper's net)",
        low=1,
    )
    target_dim: int = integer(
        1, "network", "output dimension on gaussian data (digits: 10 classes)", low=1
    )
    dataset_ratio: float = number(
        1.0,
        "data",
        "data set size N = ratio × parameters / outputs (outputs: target_dim, or digits' 10 "
        "classes; the identity mlp on gaussian data: ratio × width)",
        low=0,
        low_open=True,
    )
    dataset_size: int | None = integer(
        None,
        "data",
        "explicit data set size N (1: the paper's single-datapoint condition); null: from "
        "dataset_ratio",
        low=1,
        nullable=True,
    )
    batch_size: int | None = integer(
        None,
        "training",
        "minibatch size, drawn with replacement, the same sequence for every pixel (the tracked "
        "loss stays full-batch); null: full batch",
        low=1,
        nullable=True,
    )
    input_distribution: str = choice(
        "normal",
        INPUT_DISTRIBUTIONS,
        "data",
        "inputs N(0, 1) (the reference code) or U(0, 1) (the follow-up report's text)",
    )
    draws: str = choice(
        "legacy",
        DRAWS,
        "data",
        "how the seed becomes weights, data and minibatches: legacy is JAX 0.4's generator, the "
        "paper's 2024 networks; partitionable is today's JAX default, other networks from the "
        "same seed",
    )
    phase_space: str = choice(
        "lr_vs_lr",
        PHASE_SPACES,
        "axes",
        "meaning of the two axes: lr_vs_lr x = learning rate of the even-numbered (input) "
        "matrices, y = of the odd-numbered (output) ones; offset_vs_lr x = offset, y = lr of "
        "every layer; custom: x_axis and y_axis",
    )
    offset_mode: str = choice(
        "every_step",
        OFFSET_MODES,
        "axes",
        "add the offset c to W_0 before every step (the reference code) or once at initialisation",
    )
    steps: int = integer(500, "training", "training steps T", low=1)
    seed: int = integer(
        0,
        "data",
        "seed of weights and data (reference scheme: PRNGKey(seed); minibatches use PRNGKey(42))",
    )
    seed_mode: str = choice(
        "shared",
        SEED_MODES,
        "data",
        "shared: every pixel trains the seed's network on the seed's data (the paper); per_pixel: "
        "pixel p draws what pixel_draws names from fold_in(PRNGKey(seed), p) (docs/seeds.md)",
    )
    pixel_draws: str = choice(
        "weights",
        PIXEL_DRAWS,
        "data",
        "with seed_mode per_pixel: what each pixel draws from its own key (weights, data or both; "
        "the rest is the seed's)",
    )
    epsilon: float = number(
        0.0,
        "initial",
        "per-pixel initial weight noise: W ← W + ε·N(0, 1) (the follow-up report)",
        low=0,
        axis=True,
        title="Weight perturbation ε",
    )
    readout: str = choice(
        "loss",
        READOUTS,
        "training",
        "loss: the paper's measure only; probe: also store the output at a fixed probe input",
    )
    optimizer: str = choice(
        "gd",
        OPTIMIZERS,
        "optimizer",
        "update rule: gd W ← W − ηg; momentum (heavy ball) v ← μv + g, W ← W − ηv; nesterov "
        "v ← μv + g, W ← W − η(g + μv); adam W ← W − η·m̂/(√v̂ + adam_eps), bias-corrected",
    )
    momentum: float = number(
        0.9,
        "optimizer",
        "momentum μ of heavy-ball and Nesterov",
        low=0,
        high=1,
        high_open=True,
        axis=True,
        title="Momentum",
        needs=("optimizer", ("momentum", "nesterov")),
    )
    beta1: float = number(
        0.9,
        "optimizer",
        "Adam's first-moment decay β1",
        low=0,
        high=1,
        high_open=True,
        axis=True,
        title="Adam β1",
        needs=("optimizer", ("adam",)),
    )
    beta2: float = number(
        0.999,
        "optimizer",
        "Adam's second-moment decay β2",
        low=0,
        high=1,
        high_open=True,
        axis=True,
        title="Adam β2",
        needs=("optimizer", ("adam",)),
    )
    adam_eps: float = number(
        1e-8,
        "optimizer",
        "Adam's ε, added to √v̂",
        low=0,
        low_open=True,
        needs=("optimizer", ("adam",)),
    )
    weight_decay: float = number(
        0.0,
        "optimizer",
        "weight decay λ (per weight_decay_mode)",
        low=0,
        axis=True,
        title="Weight decay",
    )
    weight_decay_mode: str = choice(
        "l2",
        WEIGHT_DECAY_MODES,
        "optimizer",
        "l2: g ← g + λW; decoupled (AdamW style): W ← W − ηλW after the optimizer step",
    )
    schedule: str = choice(
        "constant",
        SCHEDULES,
        "schedule",
        "constant: s = 1; warmup: min(1, (t+1)/warmup_steps); cosine: from 1 at the first step "
        "to final_lr_fraction at the last; step: decay_factor^⌊t/decay_every⌋",
    )
    warmup_steps: float = number(
        0,
        "schedule",
        "length w of the linear warm-up, any real w ≥ 0 (0: none)",
        low=0,
        axis=True,
        title="Warm-up steps",
        needs=("schedule", ("warmup",)),
    )
    final_lr_fraction: float = number(
        0.0, "schedule", "cosine: s at the last step", low=0, needs=("schedule", ("cosine",))
    )
    decay_every: int = integer(
        100, "schedule", "step: steps between decays", low=1, needs=("schedule", ("step",))
    )
    decay_factor: float = number(
        0.5,
        "schedule",
        "step: factor per decay",
        low=0,
        low_open=True,
        needs=("schedule", ("step",)),
    )
    residual: bool = boolean(
        False,
        "network",
        "residual hidden-to-hidden blocks H_{i+1} = H_i + φ(Z_i)/√(depth − 2) (mlp, depth ≥ 3)",
    )
    model: str = choice(
        "mlp",
        MODELS,
        "network",
        "the network: mlp (the paper's), cnn (two 3×3 convolutions, a dense readout), "
        "transformer (one attention block over the 8 rows of a digit); cnn and transformer "
        "need data digits",
    )
    channels: int = integer(
        4, "network", "cnn: channels of both convolutions", low=1, needs=("model", ("cnn",))
    )
    d_model: int = integer(
        8,
        "network",
        "transformer: token width d (feed-forward width 2d)",
        low=1,
        needs=("model", ("transformer",)),
    )
    heads: int = integer(
        2,
        "network",
        "transformer: attention heads, dividing d_model",
        low=1,
        needs=("model", ("transformer",)),
    )
    data: str = choice(
        "gaussian",
        DATA,
        "data",
        "gaussian: the paper's random inputs and targets (mlp only); "
        "digits: the first N of scikit-learn's 1797 8×8 digits in their fixed order, "
        "standardised, 10 classes",
    )
    loss: str | None = choice(
        None,
        LOSSES,
        "training",
        "mse: mean over points and outputs of (f(x) − y)² (one-hot y on digits); cross_entropy: "
        "mean over points of −log softmax(f(x))_y (digits only); null: cross_entropy on "
        "digits, mse on gaussian data",
        nullable=True,
    )
    lr_hidden: float | None = number(
        None,
        "axes",
        "learning rate of the hidden-to-hidden matrices (depth ≥ 3); null: the phase space's rule",
        low=0,
        nullable=True,
        axis=True,
        title="Hidden layer learning rate",
    )
    lr: float = number(
        0.1,
        "axes",
        "learning rate of every layer that no axis nor lr_hidden sets",
        low=0,
        axis=True,
        title="Learning rate",
    )
    offset: float = number(
        0.0,
        "axes",
        "constant c added to every entry of W_0 (per offset_mode)",
        axis=True,
        title="Input layer weight offset",
    )
    init_scale: float = number(
        1.0,
        "initial",
        "factor multiplying every initial weight",
        low=0,
        axis=True,
        title="Initialisation scale",
    )
    x_axis: str | None = choice(
        None,
        _axis_names,
        "axes",
        "custom phase space: hyperparameter on the x axis",
        nullable=True,
    )
    y_axis: str | None = choice(
        None,
        _axis_names,
        "axes",
        "custom phase space: hyperparameter on the y axis",
        nullable=True,
    )
    x_scale: str = choice(
        "log",
        SCALES,
        "axes",
        "log: window bounds are log10 values (logspace); linear: the values (linspace)",
    )
    y_scale: str = choice("log", SCALES, "axes", "as x_scale, for the y axis")

    def __post_init__(self) -> None:
        check_fields(self, ConditionError)
        if self.activation is None:  # a condition always holds the nonlinearity it trains
            object.__setattr__(self, "activation", DEFAULT_ACTIVATIONS[self.model])
        if self.depth > MAX_DEPTH:  # before anything loops over the layers
            raise ConditionError(
                f"depth must be at most {MAX_DEPTH} (each layer is traced on its own), "
                f"got {self.depth}"
            )
        if self.model == "mlp":
            params = self.width * self.width * (self.depth - 1) + self.width * self.target_dim
            if params >= 2**31:
                raise ConditionError(
                    f"width {self.width}, depth {self.depth} and target_dim {self.target_dim} "
                    f"give 2**31 or more parameters per network (16 GiB per pixel); make it "
                    f"smaller"
                )
        self._check_network()
        if self.seed >= 2**32:  # folded into the noise keys as uint32 (model.perturb_weights)
            raise ConditionError(f"seed must be an integer below 2**32, got {self.seed}")
        if self.residual and self.model != "mlp":
            raise ConditionError(f"residual needs model mlp, got model {self.model!r}")
        if self.lr_hidden is not None and self.model != "mlp":
            raise ConditionError(f"lr_hidden needs model mlp, got model {self.model!r}")
        if self.residual and self.depth < 3:
            raise ConditionError(
                f"residual needs depth >= 3 (hidden-to-hidden layers), got depth {self.depth}"
            )
        if self.lr_hidden is not None and self.depth < 3:
            raise ConditionError(
                f"lr_hidden needs depth >= 3 (hidden-to-hidden layers), got depth {self.depth}"
            )
        if self.batch_size is not None and self.batch_size > self.n_data:
            raise ConditionError(
                f"batch_size must be <= the data set size {self.n_data}, got {self.batch_size}"
            )
        if self.n_data < 1:
            raise ConditionError(
                f"dataset_ratio {self.dataset_ratio} gives an empty data set; raise it"
            )
        if self.data == "digits" and self.n_data > DIGITS_IMAGES:
            asked = (
                f"dataset_size {self.dataset_size}"
                if self.dataset_size is not None
                else f"dataset_ratio {self.dataset_ratio:g} (N = {self.n_data})"
            )
            raise ConditionError(
                f"data digits has {DIGITS_IMAGES} images, but {asked} asks for more; lower it"
            )
        self._check_axes()

    def _check_network(self) -> None:
        """The model's own settings, and what only the paper's network on gaussian data
        computes (`generic`: the rest trains by the generic path, which refuses it here)."""
        if self.model != "mlp" and self.data != "digits":
            raise ConditionError(
                f"model {self.model} needs data digits (its input is an 8×8 image), got data "
                f"{self.data!r}"
            )
        if self.loss == "cross_entropy" and self.data != "digits":
            raise ConditionError(
                f"loss cross_entropy needs data digits (class labels), got data {self.data!r}"
            )
        if self.model == "transformer" and self.d_model % self.heads:
            raise ConditionError(
                f"heads must divide d_model {self.d_model}, got heads {self.heads}"
            )
        if self.model != "mlp":
            params = sum(self.group_sizes.values())
            if params >= 2**31:
                raise ConditionError(
                    f"model {self.model} with these settings has 2**31 or more parameters per "
                    f"network; make channels or d_model smaller"
                )
        if not self.generic:
            return
        network = f"model {self.model} on data {self.data}"
        for bad, what in (
            (self.seed_mode == "per_pixel", "seed_mode per_pixel (use seed_mode shared)"),
            (self.readout == "probe", "readout probe (use readout loss)"),
            (self.phase_space == "offset_vs_lr" or self.offset != 0.0
             or "offset" in (self.x_axis, self.y_axis),
             "an input-weight offset (offset 0, no offset axis)"),
        ):  # fmt: skip
            if bad:
                raise ConditionError(
                    f"{network} does not support {what}: only model mlp on data gaussian has it"
                )

    @property
    def objective(self) -> str:
        """The loss trained: the field ``loss``, or by the data (cross-entropy on digits)."""
        if self.loss is not None:
            return self.loss
        return "cross_entropy" if self.data == "digits" else "mse"

    @property
    def generic(self) -> bool:
        """Whether the generic path trains this condition
        (`trainability.train.arithmetics.generic`: any network by `jax.grad` and optax):
        every network but the paper's mlp on gaussian data, which keeps its own fused path."""
        return self.model != "mlp" or self.data != "gaussian"

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
            if getattr(self, name) is None:
                raise ConditionError(
                    f"{name} must be one of {', '.join(AXES)} with phase_space custom; got None"
                )
        if self.x_axis == self.y_axis:
            raise ConditionError(f"x_axis and y_axis must differ, both are {self.x_axis!r}")
        sources = self.lr_sources()
        for which, name in zip(("x_axis", "y_axis"), self.axis_names, strict=True):
            needs = AXES[name].needs
            if needs is not None and getattr(self, needs[0]) not in needs[1]:
                field, allowed = needs
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
        return phase_axes(self.phase_space, self.model, self.x_axis, self.y_axis)

    def lr_sources(self) -> tuple[str, ...]:
        """Where the learning rate of each layer (the mlp) or each group (`MODEL_GROUPS`: the
        other networks) comes from: an axis name, `FIXED_LR_HIDDEN` or `FIXED_LR` (the rules
        of the module docstring)."""
        axes = [a for a in self.axis_names if a in LR_AXES]
        if self.model != "mlp":
            return tuple(
                f"lr_{g}" if f"lr_{g}" in axes else "lr" if "lr" in axes else FIXED_LR
                for g in MODEL_GROUPS[self.model]
            )
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
        """(fan_in, fan_out) of each weight matrix of the mlp: n×n hidden maps, then
        n×outputs; on digits the first takes the 64 pixels."""
        n = self.width
        shapes = [(n, n if i < self.depth - 1 else self.n_outputs) for i in range(self.depth)]
        if self.data == "digits":
            shapes[0] = (DIGITS_SIDE * DIGITS_SIDE, shapes[0][1])
        return tuple(shapes)

    @property
    def group_sizes(self) -> dict[str, int]:
        """Parameters of each group of the network (`MODEL_GROUPS`; tests/test_real_networks.py
        checks them against the networks built): weights and biases of the cnn's 3×3
        convolutions (1 → C → C channels, unpadded: 8×8 → 6×6 → 4×4) and of its dense map
        from the C×4×4 features to 10 classes; the transformer's row embedding (8 → d, with
        bias) and position table (8 × d), its attention's query, key, value and output maps
        (d × d each, no biases), its feed-forward (d → 2d → d, with biases) and readout
        (d → 10, with bias)."""
        if self.model == "mlp":
            sizes = [a * b for a, b in self.layer_shapes]  # depth 1: W_0 is the input layer
            ends = {"output": sizes[-1]} if len(sizes) > 1 else {}
            return {"input": sizes[0], "hidden": sum(sizes[1:-1]), **ends}
        side, classes = DIGITS_SIDE, DIGITS_CLASSES
        if self.model == "cnn":
            c = self.channels
            return {
                "conv1": 9 * c + c,
                "conv2": 9 * c * c + c,
                "dense": c * (side - 4) ** 2 * classes + classes,
            }
        d, f = self.d_model, FEEDFORWARD_FACTOR * self.d_model
        return {
            "embedding": side * d + d + side * d,
            "attention": 4 * d * d,
            "feedforward": d * f + f + f * d + d,
            "readout": d * classes + classes,
        }

    @property
    def n_params(self) -> int:
        return sum(self.group_sizes.values())

    @property
    def forward_macs(self) -> int:
        """Multiply-accumulates of one network's forward pass on one input: what a pixel-step
        costs per data point (the backward pass is about twice as many). The mlp's
        Σ fan_in·fan_out (its parameter count); the cnn's 3×3 convolutions at their 6×6 and 4×4
        output positions, 36·9C + 16·9C², and its readout 16C·10; the transformer's embedding
        8·8d over its 8 tokens, the attention's four maps 8·4d², its scores and mixing
        2·8·8·d, the feed-forward 8·4d² (d → 2d → d) and the readout 10d. Biases,
        activations and the softmax are left out (a few per cent). The parameters undercount
        the convolutions and the attention 5–8× (weights shared across positions and tokens),
        which is why the cost plan prices this instead (`trainability.study.calibration`)."""
        side, classes = DIGITS_SIDE, DIGITS_CLASSES
        if self.model == "mlp":
            return sum(a * b for a, b in self.layer_shapes)
        if self.model == "cnn":
            c = self.channels
            return (
                (side - 2) ** 2 * 9 * c
                + (side - 4) ** 2 * 9 * c * c
                + (side - 4) ** 2 * c * classes
            )
        d, f = self.d_model, FEEDFORWARD_FACTOR * self.d_model
        return (
            side * side * d
            + side * 4 * d * d
            + 2 * side * side * d
            + side * 2 * d * f
            + d * classes
        )

    @property
    def n_outputs(self) -> int:
        """Outputs of the network: target_dim on gaussian data, 10 classes on digits."""
        return DIGITS_CLASSES if self.data == "digits" else self.target_dim

    @property
    def n_data(self) -> int:
        """Data set size N (docs/methods.md §1): explicit, else ratio × n_params / outputs,
        or ratio × width for the identity mlp on gaussian data (a linear map has `width` free
        directions)."""
        if self.dataset_size is not None:
            return self.dataset_size
        if self.activation == "identity" and not self.generic:
            return int(self.width * self.dataset_ratio)
        return int(self.n_params * self.dataset_ratio / self.n_outputs)

    def replace(self, **changes) -> Condition:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def phase_axes(phase_space: str, model: str = "mlp", x_axis=None, y_axis=None):
    """The (x, y) axis names of a phase space: lr_vs_lr's (lr_even, lr_odd) for the mlp, the
    first and last group's learning rates for the other networks; offset_vs_lr's
    (offset, lr); custom's (x_axis, y_axis)."""
    if phase_space == "lr_vs_lr":
        if model == "mlp":
            return ("lr_even", "lr_odd")
        groups = MODEL_GROUPS[model]
        return (f"lr_{groups[0]}", f"lr_{groups[-1]}")
    if phase_space == "offset_vs_lr":
        return ("offset", "lr")
    return (x_axis, y_axis)


def _axes() -> dict[str, Axis]:
    """The registry: the learning-rate axes (each with lr's interval; lr and lr_hidden with
    their fields' titles and help texts), then every other field declared with ``axis=True``,
    its declared title, its help text as its meaning."""
    declared = specs(Condition)
    rates, hidden = declared["lr"][0], declared["lr_hidden"][0]
    mlp = ("model", ("mlp",))
    out = {
        name: Axis(name, title, meaning, rates.interval, None if name == "lr" else mlp)
        for name, title, meaning in (
            ("lr", rates.title, rates.help),
            ("lr_input", "Input layer learning rate", "learning rate of the input matrix W_0"),
            (
                "lr_output",
                "Output layer learning rate",
                "learning rate of the output matrix W_{L-1}",
            ),
            ("lr_hidden", hidden.title, hidden.help),
            (
                "lr_even",
                "Input layer learning rate",
                "learning rate of W_0, W_2, ... (the reference's x axis)",
            ),
            (
                "lr_odd",
                "Output layer learning rate",
                "learning rate of W_1, W_3, ... (the reference's y axis)",
            ),
        )
    }
    for model, groups in MODEL_GROUPS.items():
        for group in groups if model != "mlp" else ():
            out[f"lr_{group}"] = Axis(
                f"lr_{group}",
                f"{group.capitalize()} learning rate",
                f"{model}: learning rate of the {group} group",
                rates.interval,
                ("model", (model,)),
            )
    for name, (spec, _) in declared.items():
        if spec.axis and name not in out:
            out[name] = Axis(name, spec.title, spec.help, spec.interval, spec.needs)
    return out


AXES: dict[str, Axis] = _axes()


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


def check_window_values(cond: Condition, bounds) -> None:
    """`check_axis_values` of a window's edges, from its bounds (x_min, x_max, y_min, y_max)
    in window units: on a log axis the value is 10^bound, +inf past the double range (refused
    like any value beyond an axis's interval, as the sweep's ``logspace`` would give it)."""

    def value(bound, scale: str) -> float:
        if scale == "linear":
            return float(bound)
        try:
            return 10.0 ** float(bound)
        except OverflowError:
            return math.inf

    x0, x1, y0, y1 = bounds
    check_axis_values(
        cond,
        [value(x0, cond.x_scale), value(x1, cond.x_scale)],
        [value(y0, cond.y_scale), value(y1, cond.y_scale)],
    )


if __name__ == "__main__":  # print what the schema file and config/README.md carry
    print(schema_yaml(Condition), end="\n\n")
    print(reference_table(Condition, GROUPS))
