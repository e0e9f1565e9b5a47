"""Snakemake adapter of rule sweep_tile: compute tile (i, j) of a grid."""

from trainability.core.logs import stderr_to_log

sm = stderr_to_log(snakemake)  # noqa: F821  (snakemake is injected)

from trainability.core.condition import Condition
from trainability.core.grid import save_grid
from trainability.core.window import Window
from trainability.train.sweep import Engine, default_chunk, sweep
from trainability.zoom.paths import load_path

if sm.params.keyframe is None:
    window = Window(**sm.params.window)
else:
    window = load_path(sm.input.path).window(sm.params.keyframe, sm.params.resolution)
engine = Engine.from_config(
    sm.params.engine,
    default_chunk,
    keyframe=sm.params.keyframe is not None,
    dtype=sm.params.dtype,  # a zoom's keyframes: zoom.dtype
    threads=sm.threads,
    # a resolution study's label-only panel (null: the engine's own rule, keyframes only)
    **({} if sm.params.refine is None else {"refine": sm.params.refine}),
)
grid = sweep(
    Condition(**sm.params.condition),
    window,
    engine,
    tile=(int(sm.wildcards.i), int(sm.wildcards.j)),
    tiles=tuple(sm.params.tiles),
    progress=True,
)
save_grid(sm.output[0], grid)
