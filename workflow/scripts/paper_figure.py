"""Snakemake adapter of rules paper_figure and overviews_figure: grids side by side, 3 rows x 2
columns as in the paper's figure, titled with our dimension (and the paper's) when given."""

import math

from trainability.core.logs import stderr_to_log

sm = stderr_to_log(snakemake)  # noqa: F821  (snakemake is injected)

from trainability.analysis.tables import read_table
from trainability.core.grid import load_grid
from trainability.figures.heatmap import axis_labels, save_panels


def dimension_title(dim_path, paper) -> str:
    """'fractal dim 1.48 [1.44, 1.51]; paper 1.66', or why there is no number."""
    text = f"fractal dim: {read_table(dim_path).iloc[0]['dimension']}"
    return text if paper is None else f"{text}; paper {paper:.2f}"


dimensions = sm.input.get("dimensions") or [None] * len(sm.input.grids)
panels = []
for path, dim_path, title, paper in zip(
    sm.input.grids, dimensions, sm.params.titles, sm.params.paper, strict=True
):
    grid = load_grid(path)
    panels.append(
        {
            "values": grid.values,
            "window": grid.bounds,
            "title": title if dim_path is None else f"{title}\n{dimension_title(dim_path, paper)}",
            **axis_labels(grid.meta["condition"]),
        }
    )
save_panels(sm.output[0], panels, nrows=math.ceil(len(panels) / 2), ncols=min(2, len(panels)))
