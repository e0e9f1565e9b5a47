"""Snakemake adapter of rule fractal_end_lyapunov: maximal exponents at the boundary point."""

from trainability.core.logs import stderr_to_log

sm = stderr_to_log(snakemake)  # noqa: F821  (snakemake is injected)

import numpy as np

from trainability.analysis.lyapunov import maximal_exponent
from trainability.core.atomic import atomic_path
from trainability.core.condition import Condition
from trainability.core.window import Window
from trainability.zoom.paths import load_path

settings = sm.params.lyapunov
cx, cy = (float(c) for c in load_path(sm.input[0]).centres[0])  # every keyframe's centre
half = settings["width"] / 2
window = Window(cx - half, cx + half, cy - half, cy + half, *[settings["resolution"]] * 2)
exponent, finite = maximal_exponent(Condition(**sm.params.zoom["condition"]), window,
                                    return_steps=True)  # fmt: skip
with atomic_path(sm.output[0]) as tmp, open(tmp, "wb") as f:
    np.savez_compressed(f, exponent=exponent, steps=finite, window=np.array(window.bounds))
