"""Snakemake adapter of rule seeds: the seed ensembles' tables and figure."""

from trainability.core.logs import stderr_to_log

sm = stderr_to_log(snakemake)  # noqa: F821  (snakemake is injected)

from trainability.analysis.seeds import (
    MEMBER_COLUMNS,
    SUMMARY_COLUMNS,
    member_row,
    summary_markdown,
    summary_row,
)
from trainability.analysis.tables import read_table, write_table
from trainability.core.atomic import atomic_path
from trainability.core.grid import load_grid
from trainability.figures.seed_ensembles import save_ensembles_figure

paths = iter(zip(sm.input.grids, sm.input.dimensions, strict=True))
summaries, members, figure = [], [], []
for name, names in sm.params.ensembles.items():
    grids, rows = [], []
    for member in names:
        grid_path, dim_path = next(paths)
        grids.append(load_grid(grid_path))
        rows.append(member_row(name, member, grids[-1], read_table(dim_path).iloc[0].to_dict()))
    summaries.append(summary_row(name, sm.params.titles[name], rows, grids))
    members += rows
    figure.append({"title": sm.params.titles[name], "grids": grids})
write_table(sm.output.summary, summaries, SUMMARY_COLUMNS)
write_table(sm.output.members, members, MEMBER_COLUMNS)
with atomic_path(sm.output.md) as tmp:
    tmp.write_text(summary_markdown(summaries), encoding="utf-8")
save_ensembles_figure(sm.output.png, figure)
