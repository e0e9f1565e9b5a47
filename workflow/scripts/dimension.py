"""Snakemake adapter of rule dimension: box-counting dimension of one condition."""

import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821  (snakemake is injected)

from trainability.analysis.tables import dimension_row, write_table  # noqa: E402
from trainability.core.grid import load_grid  # noqa: E402

sm = snakemake  # noqa: F821
grids = [load_grid(path) for path in sm.input.grids]
write_table(sm.output[0], [dimension_row(sm.wildcards.condition, grids, sm.params.paper)])
