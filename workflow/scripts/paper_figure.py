"""Snakemake adapter of rule paper_figure: the six-panel figure, titles with dimensions."""

import math
import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821  (snakemake is injected)

from trainability.io import load_grid  # noqa: E402
from trainability.render import axis_labels, save_panels  # noqa: E402
from trainability.tables import read_csv  # noqa: E402

sm = snakemake  # noqa: F821
panels = []
for path, dim_path, title in zip(
    sm.input.grids, sm.input.dimensions, sm.params.titles, strict=True
):
    grid = load_grid(path)
    w = grid.meta["window"]
    slope = read_csv(dim_path)[0]["median_local_slope"]
    panels.append(
        {
            "values": grid.values,
            "window": (w["x_min"], w["x_max"], w["y_min"], w["y_max"]),
            "title": f"{title}\nfractal dim {float(slope):.2f}" if slope else title,
            **axis_labels(grid.meta["condition"]),
        }
    )
save_panels(sm.output[0], panels, nrows=math.ceil(len(panels) / 2), ncols=min(2, len(panels)))
