"""Snakemake adapter of rule family_figure: a family's panels and table."""

from trainability.core.logs import stderr_to_log

sm = stderr_to_log(snakemake)  # noqa: F821  (snakemake is injected)

from pathlib import Path

from trainability.analysis.tables import read_table, write_table
from trainability.core.coordinates import coordinate, width
from trainability.core.grid import load_grid
from trainability.figures.heatmap import axis_labels, save_panels

panels, rows = [], []
for name, title, grid_path, dim_path in zip(
    sm.params.names, sm.params.titles, sm.input.grids, sm.input.dimensions, strict=True
):
    grid = load_grid(grid_path)
    dim = read_table(dim_path).iloc[0]
    shown = "overview"
    if "/zoom/keyframe_" in str(grid_path):  # the deepest keyframe: say how deep it is
        x_min, x_max = (coordinate(b) for b in grid.bounds[:2])
        log = grid.meta["condition"].get("x_scale", "log") == "log"
        shown = f"deepest keyframe, {width(x_min, x_max):.2g}{' decades' if log else ''} wide"
    panels.append(
        {
            "values": grid.values,
            "window": grid.bounds,
            "title": f"{title}\n{shown}\ndim {dim['dimension']}",
            **axis_labels(grid.meta["condition"]),
        }
    )
    rows.append(
        {
            "condition": name,
            "title": title,
            "grid": Path(grid_path).relative_to(f"results/{name}").with_suffix("").as_posix(),
            "converged_fraction": float(grid.converged.mean()),
            **{k: dim[k] for k in ("dimension", "median_local_slope", "fit", "fit_slope")},
        }
    )
nrows, ncols = sm.params.layout
save_panels(sm.output.png, panels, nrows=nrows, ncols=ncols)
write_table(sm.output.csv, rows, columns=list(rows[0]))
