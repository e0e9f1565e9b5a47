"""Snakemake adapter of rule resolution_study: every panel's dimension at several resolutions,
as a table and a figure of D against resolution with the paper's values, and a summary per
condition: the largest resolution's estimate, the extrapolation to infinite resolution and the
verdict of each against the paper's value."""

from trainability.core.logs import stderr_to_log

sm = stderr_to_log(snakemake)  # noqa: F821  (snakemake is injected)

import pandas as pd

from trainability.analysis.tables import (
    SUMMARY_COLUMNS,
    dimension_row,
    read_table,
    resolution_summary,
    write_table,
)
from trainability.core.grid import load_grid
from trainability.figures.line_plots import save_resolution_figure
from trainability.train.refinement_check import COLUMNS

rows, paths = [], iter(sm.input.grids)
for name, title, paper, grids in zip(
    sm.params.conditions, sm.params.titles, sm.params.paper, sm.params.grids, strict=True
):
    for spec in grids:  # the input lists each condition's grids in this order
        grid = load_grid(next(paths))
        computed = 1.0 if grid.computed is None else float(grid.computed.mean())
        row = dimension_row(name, [grid], paper)
        rows.append({**row, "title": title, "label_only": spec["refine"], "computed": computed})
write_table(sm.output.csv, rows, columns=(*rows[0].keys(),))
summary = resolution_summary(rows)
write_table(sm.output.summary, summary, columns=SUMMARY_COLUMNS)
save_resolution_figure(sm.output.png, rows, summary)
# the label-only grids' checks, one row per sampled tile (empty without label-only grids)
checks = [
    read_table(path).assign(condition=name, resolution=str(n))
    for (name, n), path in zip(sm.params.checked, sm.input.checks, strict=True)
]
columns = ["condition", "resolution", *COLUMNS]
table = pd.concat(checks) if checks else pd.DataFrame(columns=columns)
write_table(sm.output.checks, table[columns], columns=columns)
