"""Snakemake adapter of rule lyapunov: both exponents per pixel, and their figure."""

from trainability.core.logs import stderr_to_log

sm = stderr_to_log(snakemake)  # noqa: F821  (snakemake is injected)

import numpy as np

from trainability.analysis.lyapunov import maximal_exponent, twin_trajectory_exponent
from trainability.core.atomic import atomic_path
from trainability.core.condition import Condition
from trainability.core.window import Window
from trainability.figures.line_plots import save_lyapunov_figure
from trainability.train.sweep import axis_values, sweep

cond, window = Condition(**sm.params.condition), Window(**sm.params.window)
x, y = axis_values(cond, window)  # the pixels' hyperparameter values, on the condition's scales
converged = sweep(cond, window).converged
twin = twin_trajectory_exponent(cond, window, epsilon=sm.params.epsilon)
maximal = maximal_exponent(cond, window)
for path, values in ((sm.output.twin, twin), (sm.output.maximal, maximal)):
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, values=values, converged=converged, x=x, y=y)
save_lyapunov_figure(sm.output.png, twin, maximal, converged, window.bounds)
