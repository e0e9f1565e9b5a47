"""Snakemake adapter of rule merge_tiles: assemble a grid from its tiles."""

import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821  (snakemake is injected)

from trainability.core.grid import load_grid, merge_tiles, save_grid  # noqa: E402

sm = snakemake  # noqa: F821
save_grid(sm.output[0], merge_tiles([load_grid(path) for path in sm.input]))
