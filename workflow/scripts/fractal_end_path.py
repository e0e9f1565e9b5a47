"""Snakemake adapter of rule fractal_end_path: the boundary point and the keyframes about it."""

import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821  (snakemake is injected)

from trainability.core.condition import Condition  # noqa: E402
from trainability.core.coordinates import coordinate  # noqa: E402
from trainability.train.sweep import Engine, default_chunk  # noqa: E402
from trainability.zoom.paths import boundary_path, save_path  # noqa: E402

sm = snakemake  # noqa: F821
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
