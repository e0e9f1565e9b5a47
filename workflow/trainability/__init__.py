"""Fractal trainability boundaries: fast gradient-descent sweeps over hyperparameter grids.

The library reproduces Sohl-Dickstein (2024), *The boundary of neural network trainability is
fractal*, its follow-up report, and Liu (2024). It is float64 throughout, so importing it turns on
JAX's 64-bit mode. It also keeps each XLA CPU computation on one thread unless the caller set
``XLA_FLAGS`` already: parallelism comes from running pixel chunks side by side
(``trainability.sweep``) or from several single-threaded jobs (the Snakemake workflow), and
XLA's own intra-op threads would oversubscribe the cores in both cases.
"""

import os

os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import jax  # noqa: E402  (XLA_FLAGS must be set before JAX starts its backend)

jax.config.update("jax_enable_x64", True)

__version__ = "0.1.0"
