"""Snakemake adapter of rule zoom_path: the keyframe centres of a condition's zoom."""

import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821  (snakemake is injected)

from trainability.condition import Condition  # noqa: E402
from trainability.grid import Window  # noqa: E402
from trainability.sweep import Engine, default_chunk  # noqa: E402
from trainability.zoom import auto_path, fixed_path, save_path  # noqa: E402

sm = snakemake  # noqa: F821
zoom, engine = sm.params.zoom, sm.params.engine
if zoom["target"] == "auto":
    path = auto_path(
        Condition(**sm.params.condition),
        Window(**sm.params.window).centre(),
        zoom["outer_width"],
        zoom["levels"],
        zoom["search_resolution"],
        Engine(
            name=engine["name"], dtype=engine["dtype"], chunk=engine["chunk"] or default_chunk()
        ),
    )
else:
    path = fixed_path(zoom["target"], zoom["outer_width"], zoom["levels"])
save_path(sm.output[0], path)
