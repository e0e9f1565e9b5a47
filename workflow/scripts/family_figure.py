"""Snakemake adapter of rule family_figure: a follow-up family's panels and table."""

from trainability.core.logs import stderr_to_log

sm = stderr_to_log(snakemake)  # noqa: F821  (snakemake is injected)

from trainability.analysis.tables import read_table, write_table
from trainability.core.grid import load_grid
from trainability.figures.heatmap import axis_labels, save_panels

panels, rows = [], []
for name, title, grid_path, dim_path in zip(
    sm.params.names, sm.params.titles, sm.input.grids, sm.input.dimensions, strict=True
):
    grid = load_grid(grid_path)
    dim = read_table(dim_path).iloc[0]
    panels.append(
        {
            "values": grid.values,
            "window": grid.bounds,
            "title": f"{title}\ndim {dim['dimension']}",
            **axis_labels(grid.meta["condition"]),
        }
    )
    rows.append(
        {
            "condition": name,
            "title": title,
            "converged_fraction": float(grid.converged.mean()),
            **{k: dim[k] for k in ("dimension", "median_local_slope", "fit", "fit_slope")},
        }
    )
nrows, ncols = sm.params.layout
save_panels(sm.output.png, panels, nrows=nrows, ncols=ncols)
write_table(sm.output.csv, rows, columns=list(rows[0]))
