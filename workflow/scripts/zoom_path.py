"""Snakemake adapter of rule zoom_path: the keyframe windows of a condition's zoom."""

from trainability.core.logs import stderr_to_log

sm = stderr_to_log(snakemake)  # noqa: F821  (snakemake is injected)

from trainability.core.condition import Condition
from trainability.core.coordinates import coordinate
from trainability.core.window import Window
from trainability.train.sweep import Engine, default_chunk
from trainability.zoom.paths import (
    auto_path,
    boundary_path,
    concentric_path,
    descend,
    fixed_path,
    save_path,
)

zoom = sm.params.zoom
cond = Condition(**sm.params.condition)
engine = Engine.from_config(sm.params.engine, default_chunk, dtype=zoom["dtype"])
exact = {"resolution": zoom["resolution"]}  # keyframes past float64 in exact arithmetic
if zoom["target"] == "auto":
    path = auto_path(
        cond,
        Window(**sm.params.window).centre(),
        zoom["outer_width"],
        zoom["levels"],
        zoom["search_resolution"],
        engine,
        **exact,
    )
elif zoom["target"] == "panel":
    above = concentric_path(Window(**sm.params.panel).bounds, zoom["outer_width"])
    path = descend(cond, above, zoom["levels"], zoom["search_resolution"], engine, **exact)
elif zoom["target"] == "boundary":  # on zoom.line, by bisection
    path = boundary_path(
        cond,
        [coordinate(v) for v in zoom["line"]],
        zoom["outer_width"],
        zoom["levels"],
        doublings=zoom["doublings"],
        resolution=zoom["resolution"],
        engine=engine,
    )
else:
    target = [coordinate(v) for v in zoom["target"]]  # decimal text: exact
    path = fixed_path(target, zoom["outer_width"], zoom["levels"], doublings=zoom["doublings"],
                      **exact)  # fmt: skip
save_path(sm.output[0], path)
