"""Print the paper-draws constants of tests/test_model.py (`PAPER_DRAWS`, `PAPER_SHA256`)
from the independent reference's draws (tests/independent.py, which imports nothing from
`trainability`).

    python tests/data/make_paper_draws.py

The paper's tanh network with the minibatch condition (width 16, N = 272, minibatches of 16
over 1000 steps), drawn with JAX's legacy generator (``jax.threefry_partitionable(False)``,
docs/methods.md §4) by the seed scheme of §1: the first three entries of W0's first row, of W1,
of X's first row and of Y, the first five minibatch indices of steps 0 and 999, and the first
16 hex digits of the SHA-256 of W0, W1, Y, the minibatch table and of the raw 64-bit random
bits under X's key (split(split(PRNGKey(0))[0])[1]: bits, so that the check does not depend on
how JAX turns bits into normal numbers). tests/test_model.py checks that this script gives
them (docs/methods.md §4 says jax 0.4.23 gave them), so they are reproducible from a source
independent of the library.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the independent reference

import independent  # noqa: E402

jax = independent.jax


def sha(array) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]


def paper_draws() -> tuple[dict, dict]:
    """(PAPER_DRAWS, PAPER_SHA256) as tests/test_model.py writes them."""
    cond = independent.spec(batch_size=16, steps=1000)
    problem = independent.draw(cond)
    (W0, W1), X, Y, mb = problem.weights, problem.X, problem.Y, problem.minibatches
    draws = {
        "W0[0, :3]": W0[0, :3].tolist(),
        "W1[:3, 0]": W1[:3, 0].tolist(),
        "X[0, :3]": X[0, :3].tolist(),
        "Y[:3, 0]": Y[:3, 0].tolist(),
        "minibatch[0, :5]": mb[0, :5].tolist(),
        "minibatch[999, :5]": mb[999, :5].tolist(),
    }
    with independent.generator("legacy"):
        _, key = jax.random.split(jax.random.split(jax.random.PRNGKey(0))[0])
        bits = jax.random.bits(key, X.shape, dtype=np.uint64)
    sha256 = {"W0": sha(W0), "W1": sha(W1), "Y": sha(Y), "minibatches": sha(mb),
              "X bits": sha(bits)}  # fmt: skip
    return draws, sha256


if __name__ == "__main__":
    for name, table in zip(("PAPER_DRAWS", "PAPER_SHA256"), paper_draws(), strict=True):
        print(f"{name} = {{")
        for key, value in table.items():
            print(f"    {json.dumps(key)}: {json.dumps(value)},")
        print("}")
