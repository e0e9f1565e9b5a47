# Helpers, wildcard constraints and target lists shared by the rules (no rules here).

from trainability.study.config import fractal_end_zooms, resolution_grids
from trainability.core.window import Window

from trainability.toys.studies import STUDIES

TOY_STUDIES = list(STUDIES) if "toys" in config else []
# seed ensembles (seeds.smk): ensemble name -> its members, in seed order; members are drawn and
# tabled with their ensemble, not in the paper's figures, the dimension table or a family
ENSEMBLES = {}
for _name, _study in STUDY.items():
    if _study.ensemble is not None:
        ENSEMBLES.setdefault(_study.ensemble, []).append(_name)
ENSEMBLE_TITLES = {
    name: config["conditions"][name].get("title", name) for name in ENSEMBLES
}
SINGLE = {name: study for name, study in STUDY.items() if study.ensemble is None}
PAPER = [name for name, study in SINGLE.items() if study.family is None]
ZOOMING = [name for name, study in STUDY.items() if study.zoom is not None]
# the dimension table lists every condition the config names (paper conditions and groups)
TABLED = [name for name in SINGLE if name in config["conditions"]]
FAMILIES = {}
for _name, _study in SINGLE.items():
    if _study.family is not None:
        FAMILIES.setdefault(_study.family, []).append(_name)


wildcard_constraints:
    condition="|".join(STUDY),
    grid=r"overview|panel|panel_\d+|zoom/keyframe_\d\d",
    i=r"\d+",
    j=r"\d+",
    study="|".join(TOY_STUDIES),
    family="|".join(FAMILIES) or "(?!)",  # none: a pattern that matches nothing


PANELS = [name for name, study in SINGLE.items() if study.panel is not None]
RESOLUTION_STUDY = config.get("resolution_study")
# the resolution study's grids: condition -> [{resolution, refine}] (refine: label-only stride)
RESOLUTION_GRIDS = resolution_grids(config, STUDY)
# where the fractal ends (fractal_end.smk): training length T -> its zoom, as plain data
FRACTAL_END = fractal_end_zooms(config, STUDY) if "fractal_end" in config else {}


def ensemble_grid(condition):
    """The grid an ensemble member is compared on: its panel if it has one, else its overview."""
    grid = "panel" if STUDY[condition].panel is not None else "overview"
    return f"results/{condition}/{grid}.npz"


def keyframe_index(grid):
    """k of a grid named zoom/keyframe_k, None for the overview and panels."""
    return int(grid.rsplit("_", 1)[1]) if grid.startswith("zoom/") else None


def grid_resolution(condition, grid):
    """Pixels per side of a grid: overview, panel, panel_R (resolution study) or keyframe."""
    study = STUDY[condition]
    if grid == "overview":
        return study.window.nx
    if grid == "panel":
        return study.panel.nx
    if grid.startswith("panel_"):
        return int(grid.split("_")[1])
    return study.zoom.resolution


def grid_dtype(condition, grid):
    """Precision of a grid: a zoom's keyframes take zoom.dtype, the others engine.dtype."""
    if keyframe_index(grid) is not None:
        return STUDY[condition].zoom.dtype
    return config["engine"]["dtype"]


def grid_refine(condition, grid):
    """Label-only refinement's stride for a resolution study's grid panel_R (0: every pixel
    swept); None for every other grid, whose engine decides (engine.refine: keyframes only).
    """
    if not grid.startswith("panel_"):
        return None
    n = grid_resolution(condition, grid)
    return next(
        (
            g["refine"]
            for g in RESOLUTION_GRIDS.get(condition, [])
            if g["resolution"] == n
        ),
        0,
    )


def refined_grids():
    """(condition, resolution) of the resolution study's label-only grids."""
    return [
        (name, g["resolution"])
        for name, grids in RESOLUTION_GRIDS.items()
        for g in grids
        if g["refine"]
    ]


def grid_tiles(condition, grid):
    """[rows, columns] of the tiles of a grid."""
    study = STUDY[condition]
    if grid == "overview":
        return list(study.tiles)
    if grid == "panel":
        return list(study.panel_tiles)
    if grid.startswith("panel_"):
        return (
            list(RESOLUTION_STUDY["tiles"]) if "tiles" in RESOLUTION_STUDY else [1, 1]
        )
    return list(study.zoom.tiles)


def grid_tile_files(condition, grid):
    """Tile files that make up a grid."""
    ti, tj = grid_tiles(condition, grid)
    return [
        f"results/{condition}/tiles/{grid}/{i}_{j}.npz"
        for i in range(ti)
        for j in range(tj)
    ]


def panel_window(condition, resolution=None):
    """The panel's window (plain data) at its own resolution or at ``resolution``."""
    panel = STUDY[condition].panel
    if panel is None:
        return None
    if resolution is not None:
        panel = Window.square(panel.bounds, resolution)
    return panel.to_dict()


def resolution_grid(condition, resolution):
    """The panel's grid at ``resolution``: the panel itself when it has that resolution (and
    is not drawn label-only there)."""
    refined = grid_refine(condition, f"panel_{resolution}")
    if STUDY[condition].panel.nx == resolution and not refined:
        return f"results/{condition}/panel.npz"
    return f"results/{condition}/panel_{resolution}.npz"


def grid_window(condition, grid):
    """The window of a grid (plain data); keyframe windows come from the zoom path file."""
    if grid == "overview":
        return STUDY[condition].window.to_dict()
    if grid.startswith("panel"):
        return panel_window(condition, grid_resolution(condition, grid))
    return None


def fractal_end_keyframes(steps):
    """The keyframe grids of the fractal_end zoom at ``steps`` training steps."""
    return [
        f"results/fractal_end/T{steps}/keyframe_{k:02d}.npz"
        for k in range(FRACTAL_END[steps]["levels"])
    ]


def keyframe_files(condition, ext):
    zoom = STUDY[condition].zoom
    return [
        f"results/{condition}/zoom/keyframe_{k:02d}.{ext}" for k in range(zoom.levels)
    ]


def dimension_grids(condition):
    """The grids a condition's dimension pools: its panel and zoom keyframes (those with too
    few pixels for a decade of box sizes are refused by the estimator), else its overview.
    """
    study = STUDY[condition]
    grids = [f"results/{condition}/panel.npz"] if study.panel is not None else []
    if study.zoom is not None:
        grids += keyframe_files(condition, "npz")
    return grids or [f"results/{condition}/overview.npz"]


def condition_targets(condition):
    """Everything a named condition target builds."""
    targets = [
        f"results/{condition}/overview.npz",
        f"results/{condition}/dimension.csv",
    ]
    if STUDY[condition].panel is not None:
        targets.append(f"results/{condition}/panel.png")
    if (
        condition in config["conditions"]
    ):  # generated conditions are drawn in their family figure
        targets.append(f"results/{condition}/overview.png")
    if STUDY[condition].zoom is not None:
        targets += [
            *keyframe_files(condition, "png"),
            f"results/{condition}/zoom.mp4",
            f"results/{condition}/zoom.gif",
            f"results/{condition}/zoom_keyframes.png",
            f"results/{condition}/zoom_dimension.png",
        ]
    return targets


def family_grid(condition):
    """The grid a family figure shows of a condition: its deepest zoom keyframe where it zooms
    (a zooming condition is about its zoom; its overview is context), else its overview.
    """
    if STUDY[condition].zoom is not None:
        return keyframe_files(condition, "npz")[-1]
    return f"results/{condition}/overview.npz"


def family_layout(family):
    """[rows, columns] of a family's figure: depths x widths for the architectures."""
    if family == "architectures":
        arch = config["followup"]["architectures"]
        return [len(arch["depths"]), len(arch["widths"])]
    n = len(FAMILIES[family])
    return [(n + 3) // 4, min(n, 4)]


def lyapunov_condition():
    from trainability.core.condition import Condition

    base = {
        k: v for k, v in config["followup"]["base"].items() if hasattr(Condition, k)
    }
    return Condition(**base)


def lyapunov_window():
    return Window.square(
        config["followup"]["base"].get("window", [-3, 6, -3, 6]),
        config["followup"]["lyapunov"]["resolution"],
    )


ALL_TARGETS = [
    *[target for name in STUDY for target in condition_targets(name)],
    *[
        f"results/{kind}/{family}.{ext}"
        for family in FAMILIES
        for kind, ext in (("figures", "png"), ("tables", "csv"))
    ],
    *(["results/figures/lyapunov.png"] if "followup" in config else []),
    *(["results/figures/paper_conditions.png"] if PANELS else []),
    *(
        [
            "results/tables/seeds.csv",
            "results/tables/seeds_members.csv",
            "results/figures/seeds.png",
        ]
        if ENSEMBLES
        else []
    ),
    *(["results/figures/overviews.png"] if PAPER else []),
    *(
        [
            "results/tables/fractal_dimensions.csv",
            "results/tables/fractal_dimensions.md",
        ]
        if TABLED
        else []
    ),
    *[f"results/toys/{study}.{ext}" for study in TOY_STUDIES for ext in ("csv", "png")],
    *(  # the resolution study, in the default target only when it asks to be reported
        [
            "results/tables/resolution_summary.csv",
            "results/tables/resolution_study.csv",
            "results/tables/refinement_check.csv",
            "results/figures/resolution_study.png",
        ]
        if RESOLUTION_STUDY and RESOLUTION_STUDY.get("report")
        else []
    ),
    "results/report.html",
]


REPORT_GROUPS = {
    ("results/figures", ".png"): "figure",
    ("results/tables", ".csv"): "table",
    ("results/toys", ".png"): "toy_figure",
    ("results/toys", ".csv"): "toy_table",
}


def report_inputs(wildcards):
    """The report's named inputs (trainability.report.inputs): <condition>.<kind> for each
    condition of the config, figure.<name>, table.<name>, toy_figure.<study>,
    toy_table.<study>; "finished" holds every other target of the study, so that the report
    and the run times it sums come last."""
    named = {}
    for name in TABLED:
        study, base = STUDY[name], f"results/{name}"
        named[f"{name}.grid"] = f"{base}/overview.npz"
        named[f"{name}.overview"] = f"{base}/overview.png"
        named[f"{name}.dimension"] = f"{base}/dimension.csv"
        if study.panel is not None:
            named[f"{name}.panel"] = f"{base}/panel.png"
        if study.zoom is not None:
            named[f"{name}.keyframes"] = f"{base}/zoom_keyframes.png"
            named[f"{name}.zoom_dimension"] = f"{base}/zoom_dimension.png"
            named[f"{name}.video"] = f"{base}/zoom.mp4"
    for path in map(Path, ALL_TARGETS):
        group = REPORT_GROUPS.get((str(path.parent), path.suffix))
        if group:
            named[f"{group}.{path.stem}"] = str(path)
    named["finished"] = [
        p for p in ALL_TARGETS if p not in named.values() and p != "results/report.html"
    ]
    return named
