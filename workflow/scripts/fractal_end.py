"""Snakemake adapter of rule fractal_end: d*(T) beside the Lyapunov prediction, the slope of
every keyframe, and their figure."""

from trainability.core.logs import stderr_to_log

sm = stderr_to_log(snakemake)  # noqa: F821  (snakemake is injected)

import numpy as np

from trainability.analysis.tables import write_table
from trainability.core.grid import load_grid
from trainability.figures.line_plots import save_fractal_end_figure
from trainability.zoom.fractal_end import boundary_exponent, study_rows

keyframe_files, summaries, keyframes = iter(sm.input.keyframes), [], []
for (steps, levels), lyapunov in zip(sm.params.levels.items(), sm.input.lyapunov, strict=True):
    grids = [load_grid(next(keyframe_files)) for _ in range(levels)]  # input order: T, then k
    windows = [g.bounds for g in grids]
    with np.load(lyapunov) as data:
        exponent = boundary_exponent(data["exponent"], data["steps"], steps)
    summary, rows = study_rows(steps, windows, [g.values for g in grids],
                               sm.params.overview_width, exponent, sm.params.smooth)  # fmt: skip
    summaries.append(summary)
    keyframes += rows
write_table(sm.output.csv, summaries, columns=tuple(summaries[0]))
write_table(sm.output.keyframes, keyframes, columns=tuple(keyframes[0]))
save_fractal_end_figure(sm.output.png, summaries, keyframes, sm.params.smooth, sm.params.title)
