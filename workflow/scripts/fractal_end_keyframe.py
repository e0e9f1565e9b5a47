"""Snakemake adapter of rule fractal_end_keyframe: one keyframe of a fractal_end zoom."""

from trainability.core.logs import stderr_to_log

sm = stderr_to_log(snakemake)  # noqa: F821  (snakemake is injected)

from trainability.core.condition import Condition
from trainability.core.grid import save_grid
from trainability.train.sweep import Engine, default_chunk, sweep
from trainability.zoom.paths import load_path

zoom = sm.params.zoom
window = load_path(sm.input[0]).window(int(sm.wildcards.k), zoom["resolution"])
engine = Engine.from_config(
    sm.params.engine,
    default_chunk,
    keyframe=True,  # keyframes are box-counted: labels are what they need (engine.refine)
    dtype=zoom["dtype"],
    arithmetic=zoom["arithmetic"],
    threads=sm.threads,
)
save_grid(sm.output[0], sweep(Condition(**zoom["condition"]), window, engine, progress=True))
