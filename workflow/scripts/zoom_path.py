"""Snakemake adapter of rule zoom_path: the keyframe windows of a condition's zoom."""

import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821  (snakemake is injected)

from trainability.condition import Condition  # noqa: E402
from trainability.sweep import Engine, default_chunk  # noqa: E402
from trainability.window import Window  # noqa: E402
from trainability.zoom import (  # noqa: E402
    auto_path,
    concentric_path,
    descend,
    fixed_path,
    save_path,
)

sm = snakemake  # noqa: F821
zoom, engine = sm.params.zoom, sm.params.engine
cond = Condition(**sm.params.condition)
engine = Engine(
    name=engine["name"],
    dtype=engine["dtype"],
    arithmetic=engine["arithmetic"],
    chunk=engine["chunk"] or default_chunk(),
)
if zoom["target"] == "auto":
    path = auto_path(
        cond,
        Window(**sm.params.window).centre(),
        zoom["outer_width"],
        zoom["levels"],
        zoom["search_resolution"],
        engine,
    )
elif zoom["target"] == "panel":
    above = concentric_path(Window(**sm.params.panel).bounds, zoom["outer_width"])
    path = descend(cond, above, zoom["levels"], zoom["search_resolution"], engine)
else:
    path = fixed_path(zoom["target"], zoom["outer_width"], zoom["levels"])
save_path(sm.output[0], path)
