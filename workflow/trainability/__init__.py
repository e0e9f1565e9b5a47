"""Fractal trainability boundaries: fast gradient-descent sweeps over hyperparameter grids.

The library reproduces Sohl-Dickstein (2024), *The boundary of neural network trainability is
fractal*, its follow-up report, and Liu (2024). Its numerical modules run JAX in float64
(`trainability.numerics.jax64` turns on 64-bit mode when the first of them is imported); the file
and figure modules (`grid`, `heatmap`, `dimension`, `tables`) do not import JAX at all, so the
workflow's small jobs start fast.

Unless the caller set ``XLA_FLAGS`` already, each XLA CPU computation stays on one thread:
parallelism comes from running pixel chunks side by side (`trainability.train.sweep`) or from
several single-threaded jobs (the Snakemake workflow), and XLA's own intra-op threads would
oversubscribe the cores in both cases.
"""

import os

os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

__version__ = "0.1.0"
