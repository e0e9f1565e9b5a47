"""`Condition`: everything that defines one experiment of the study, validated.

A condition fixes the network (activation, width, depth, output dimension), the data (size,
input distribution, seed), the training (steps, minibatch, weight perturbation) and the meaning
of the two grid axes (the *phase space*). Only the hyperparameter window and the numerical
engine are left out: they say *where* and *how* the condition is computed, not *what* it is.

Phase spaces (Sohl-Dickstein 2024, papers.md §1.1):

- ``lr_vs_lr``: x = learning rate of the even-numbered weight matrices (the input layer),
  y = learning rate of the odd-numbered ones (the output layer of the one-hidden-layer net).
- ``offset_vs_lr``: x = a constant c added to every entry of the input weight matrix W0,
  y = one learning rate shared by all layers. ``offset_mode="every_step"`` adds c before every
  step, as the reference code does (W0 ← W0 + c − η∇ℓ(W0 + c)); ``"init"`` adds it once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

ACTIVATIONS = ("tanh", "relu", "identity", "sigmoid")
PHASE_SPACES = ("lr_vs_lr", "offset_vs_lr")
OFFSET_MODES = ("every_step", "init")
INPUT_DISTRIBUTIONS = ("normal", "uniform")
READOUTS = ("loss", "probe")


class ConditionError(ValueError):
    """A condition field has a value outside its allowed set (message names the field)."""


@dataclass(frozen=True)
class Condition:
    """One experiment: network, data and training. Defaults are the paper's tanh condition."""

    activation: str = "tanh"
    width: int = 16
    depth: int = 2
    target_dim: int = 1
    dataset_ratio: float = 1.0
    dataset_size: int | None = None
    batch_size: int | None = None
    input_distribution: str = "normal"
    phase_space: str = "lr_vs_lr"
    offset_mode: str = "every_step"
    steps: int = 500
    seed: int = 0
    epsilon: float = 0.0
    readout: str = "loss"

    def __post_init__(self) -> None:
        _choice("activation", self.activation, ACTIVATIONS)
        _choice("phase_space", self.phase_space, PHASE_SPACES)
        _choice("offset_mode", self.offset_mode, OFFSET_MODES)
        _choice("input_distribution", self.input_distribution, INPUT_DISTRIBUTIONS)
        _choice("readout", self.readout, READOUTS)
        _at_least("width", self.width, 1)
        _at_least("depth", self.depth, 1)
        _at_least("target_dim", self.target_dim, 1)
        _at_least("steps", self.steps, 1)
        if self.dataset_size is not None:
            _at_least("dataset_size", self.dataset_size, 1)
        if not self.dataset_ratio > 0:
            raise ConditionError(f"dataset_ratio must be > 0, got {self.dataset_ratio}")
        if not self.epsilon >= 0:
            raise ConditionError(f"epsilon must be >= 0, got {self.epsilon}")
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


def _choice(name: str, value, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConditionError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def _at_least(name: str, value, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ConditionError(f"{name} must be an integer >= {low}, got {value!r}")
