"""Snakemake adapter of rule dimension: box-counting dimension of one condition."""

from trainability.core.logs import stderr_to_log

sm = stderr_to_log(snakemake)  # noqa: F821  (snakemake is injected)

from trainability.analysis.tables import dimension_row, write_table
from trainability.core.grid import load_grid

grids = [load_grid(path) for path in sm.input.grids]
write_table(sm.output[0], [dimension_row(sm.wildcards.condition, grids, sm.params.paper)])
