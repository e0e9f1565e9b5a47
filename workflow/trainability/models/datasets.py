"""Real data: scikit-learn's handwritten digits, as each network reads them.

`sklearn.datasets.load_digits` ships with scikit-learn (no download): 1797 grey images of 8×8
pixels with values 0 … 16, labelled 0 … 9, in a fixed order. A condition with ``data digits``
trains on the first N of them (N = `Condition.n_data`, no shuffling, so N images are the same
images in every run and for every seed). Each of the 64 pixels j is standardised with the
statistics of all 1797 images,

    x̃_ij = (x_ij − m_j) / s_j,   m_j = mean_i x_ij,   s_j = std_i x_ij   (s_j = 0 → 1),

so the first n images are the same numbers whatever N is (the corner pixels that are 0 in every
image stay 0). Labels travel as one-hot rows Y (N × 10): the loss is the mean cross-entropy
ℓ = −(1/N) Σ_i Σ_k Y_ik log softmax(f(x_i))_k (`trainability.models.networks.loss`).

Shapes per network (`inputs`): the mlp reads the flattened 64-vector (N × 64), the cnn a
one-channel image (N × 1 × 8 × 8), the transformer a sequence of the image's 8 rows, each
row one token of 8 values (N × 8 × 8).

The paper's Gaussian data stay with the mlp's draws (`trainability.models.mlp`): they come from
the same keys as its weights, the reference's seed scheme.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from trainability.core.condition import DIGITS_CLASSES, DIGITS_IMAGES, DIGITS_SIDE, Condition


@lru_cache(maxsize=1)
def _standardised() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 images standardised (read-only float64, 1797 × 64) and their labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = np.asarray(digits.data, np.float64)
    labels = np.asarray(digits.target, np.int64)
    if x.shape != (DIGITS_IMAGES, DIGITS_SIDE * DIGITS_SIDE):
        raise RuntimeError(f"scikit-learn's digits changed shape: {x.shape}")
    spread = x.std(axis=0)
    x = (x - x.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    x.flags.writeable = False
    labels.flags.writeable = False
    return x, labels


def digits(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` standardised images (n × 64, float64) and their labels (n,)."""
    if not 1 <= n <= DIGITS_IMAGES:
        raise ValueError(f"n must be between 1 and {DIGITS_IMAGES}, got {n}")
    x, labels = _standardised()
    return x[:n].copy(), labels[:n].copy()


def one_hot(labels: np.ndarray, classes: int = DIGITS_CLASSES) -> np.ndarray:
    """Rows e_{label} (n × classes, float64)."""
    return np.eye(classes)[labels]


def inputs(cond: Condition, x: np.ndarray) -> np.ndarray:
    """Flattened images ``x`` (n × 64) in the shape the condition's network reads (module
    docstring)."""
    side = DIGITS_SIDE
    if cond.model == "mlp":
        return x
    if cond.model == "cnn":
        return x.reshape(-1, 1, side, side)
    if cond.model == "transformer":
        return x.reshape(-1, side, side)
    raise ValueError(f"model must be one of mlp, cnn, transformer; got {cond.model!r}")


def digits_data(cond: Condition) -> tuple[np.ndarray, np.ndarray]:
    """(X, Y) of a condition on ``data digits``: its first N images shaped for its network,
    and their one-hot labels."""
    x, labels = digits(cond.n_data)
    return inputs(cond, x), one_hot(labels)
