"""Snakemake adapter of the zoom_keyframes rules: keyframe heatmaps, strip, dimension plot."""

from trainability.core.logs import stderr_to_log

sm = stderr_to_log(snakemake)  # noqa: F821  (snakemake is injected)

from trainability.core.grid import load_grid, phase_field
from trainability.figures.heatmap import axis_labels, save_heatmap
from trainability.figures.line_plots import save_zoom_dimension
from trainability.figures.video import save_keyframe_strip

grids = [load_grid(path) for path in sm.input]
windows = [g.bounds for g in grids]
for grid, window, png in zip(grids, windows, sm.output.keyframes, strict=True):
    save_heatmap(
        png, grid.values, window, title=sm.params.title, **axis_labels(grid.meta["condition"])
    )
save_keyframe_strip(sm.output.strip, [(g.values, w) for g, w in zip(grids, windows, strict=True)])
fields = [phase_field(g) for g in grids]  # labels: keyframes may be refined (engine.refine)
save_zoom_dimension(sm.output.dimension, fields, windows, sm.params.title)
