"""Snakemake adapter of rule heatmap: draw one grid with the paper's look."""

from trainability.core.logs import stderr_to_log

sm = stderr_to_log(snakemake)  # noqa: F821  (snakemake is injected)

from trainability.core.grid import load_grid
from trainability.figures.heatmap import axis_labels, save_heatmap

grid = load_grid(sm.input[0])
save_heatmap(
    sm.output[0],
    grid.values,
    grid.bounds,
    title=sm.params.title,
    **axis_labels(grid.meta["condition"]),
)
