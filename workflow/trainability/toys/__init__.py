"""Liu (2024): gradient descent on quadratics plus a cosine ripple, their learning-rate sweeps and
the five studies of the toy workflow.

May import: `trainability.numerics`, `trainability.core`, `trainability.analysis`.
"""
