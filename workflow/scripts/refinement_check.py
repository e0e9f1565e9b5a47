"""Snakemake adapter of rule refinement_check: a label-only panel against full sweeps of
sampled tiles (`trainability.train.refinement_check`)."""

from trainability.core.logs import stderr_to_log

sm = stderr_to_log(snakemake)  # noqa: F821  (snakemake is injected)

from trainability.analysis.tables import write_table
from trainability.core.condition import Condition
from trainability.core.grid import load_grid
from trainability.core.window import Window
from trainability.train.refinement_check import COLUMNS, check_refinement
from trainability.train.sweep import Engine, default_chunk

rows = check_refinement(
    load_grid(sm.input[0]),
    Condition(**sm.params.condition),
    Window(**sm.params.window),
    Engine.from_config(sm.params.engine, default_chunk, threads=sm.threads),
    sm.params.per_side,
    sm.params.tiles_checked,
)
write_table(sm.output[0], rows, columns=COLUMNS)
