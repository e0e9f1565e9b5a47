"""Snakemake adapter of rule fractal_end_path: the boundary point and the keyframes about it."""

from trainability.core.logs import stderr_to_log

sm = stderr_to_log(snakemake)  # noqa: F821  (snakemake is injected)

from trainability.core.condition import Condition
from trainability.core.coordinates import coordinate
from trainability.train.sweep import Engine, default_chunk
from trainability.zoom.paths import boundary_path, save_path

zoom = sm.params.zoom
path = boundary_path(
    Condition(**zoom["condition"]),
    [coordinate(v) for v in zoom["line"]],
    coordinate(zoom["outer_width"]),
    zoom["levels"],
    doublings=zoom["doublings"],
    resolution=zoom["resolution"],
    engine=Engine.from_config(
        sm.params.engine, default_chunk, dtype=zoom["dtype"], arithmetic=zoom["arithmetic"]
    ),
)
save_path(sm.output[0], path)
