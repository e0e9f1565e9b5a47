"""Snakemake adapter of rule zoom_keyframes: keyframe strip and dimension along the zoom."""

import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821  (snakemake is injected)

from trainability.io import load_grid  # noqa: E402
from trainability.plots import save_zoom_dimension  # noqa: E402
from trainability.video import save_keyframe_strip  # noqa: E402

sm = snakemake  # noqa: F821
grids = [load_grid(path) for path in sm.input]
windows = [tuple(g.meta["window"][k] for k in ("x_min", "x_max", "y_min", "y_max")) for g in grids]
save_keyframe_strip(sm.output.strip, [(g.values, w) for g, w in zip(grids, windows, strict=True)])
save_zoom_dimension(sm.output.dimension, [g.values for g in grids], windows, sm.params.title)
