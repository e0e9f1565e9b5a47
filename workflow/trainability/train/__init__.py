"""Training one network per pixel: per-pixel hyperparameters, optimizers and schedules, the one
training step, the convergence measure, the arithmetics a sweep trains in (float64,
double-double, perturbation; the generic path of the other networks) behind one interface,
label-only refinement and the sweep itself.

May import: `trainability.numerics`, `trainability.core`, `trainability.models`.
"""
