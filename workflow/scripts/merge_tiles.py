"""Snakemake adapter of rule merge_tiles: assemble a grid from its tiles."""

from trainability.core.logs import stderr_to_log

sm = stderr_to_log(snakemake)  # noqa: F821  (snakemake is injected)

from trainability.core.grid import load_grid, merge_tiles, save_grid

save_grid(sm.output[0], merge_tiles([load_grid(path) for path in sm.input]))
