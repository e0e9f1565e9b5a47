"""Snakemake adapter of rule resolution_study: every panel's dimension at several resolutions,
as a table and a figure of D against resolution with the paper's values, and a summary per
condition: the largest resolution's estimate, the extrapolation to infinite resolution and the
verdict of each against the paper's value."""

from trainability.core.logs import stderr_to_log

sm = stderr_to_log(snakemake)  # noqa: F821  (snakemake is injected)

from trainability.analysis.tables import (
    SUMMARY_COLUMNS,
    dimension_row,
    resolution_summary,
    write_table,
)
from trainability.core.grid import load_grid
from trainability.figures.line_plots import save_resolution_figure

rows, paths = [], iter(sm.input)
for name, title, paper in zip(sm.params.conditions, sm.params.titles, sm.params.paper, strict=True):
    for _ in sm.params.resolutions:  # the input lists each condition's grids in this order
        grid = load_grid(next(paths))
        rows.append({**dimension_row(name, [grid], paper), "title": title})
write_table(sm.output.csv, rows, columns=(*rows[0].keys(),))
summary = resolution_summary(rows)
write_table(sm.output.summary, summary, columns=SUMMARY_COLUMNS)
save_resolution_figure(sm.output.png, rows, summary)
