"""Snakemake adapter of rule fractal_end_path: the boundary point and the keyframes about it."""

import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821  (snakemake is injected)

from trainability.core.condition import Condition  # noqa: E402
from trainability.core.coordinates import coordinate  # noqa: E402
from trainability.train.sweep import Engine, default_chunk  # noqa: E402
from trainability.zoom.paths import boundary_path, save_path  # noqa: E402

sm = snakemake  # noqa: F821
zoom, engine = sm.params.zoom, sm.params.engine
path = boundary_path(
    Condition(**zoom["condition"]),
    [coordinate(v) for v in zoom["line"]],
    coordinate(zoom["outer_width"]),
    zoom["levels"],
    doublings=zoom["doublings"],
    resolution=zoom["resolution"],
    engine=Engine(
        name=engine["name"],
        dtype=zoom["dtype"],
        arithmetic=zoom["arithmetic"],
        chunk=engine["chunk"] or default_chunk(),
    ),
)
save_path(sm.output[0], path)
