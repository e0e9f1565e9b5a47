"""Snakemake adapter of rule heatmap: draw one grid with the paper's look."""

import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821  (snakemake is injected)

from trainability.core.grid import load_grid  # noqa: E402
from trainability.figures.heatmap import axis_labels, save_heatmap  # noqa: E402

sm = snakemake  # noqa: F821
grid = load_grid(sm.input[0])
save_heatmap(
    sm.output[0],
    grid.values,
    grid.bounds,
    title=sm.params.title,
    **axis_labels(grid.meta["condition"]),
)
