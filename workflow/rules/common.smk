# Helpers, wildcard constraints and target lists shared by the rules (no rules here).

from trainability.toy_studies import STUDIES

TOY_STUDIES = list(STUDIES) if "toys" in config else []
PAPER = [name for name, study in STUDY.items() if study.family is None]
ZOOMING = [name for name, study in STUDY.items() if study.zoom is not None]
# the dimension table lists every condition the config names (paper conditions and groups)
TABLED = list(config["conditions"])
FAMILIES = {}
for _name, _study in STUDY.items():
    if _study.family is not None:
        FAMILIES.setdefault(_study.family, []).append(_name)


wildcard_constraints:
    condition="|".join(STUDY),
    grid=r"overview|zoom/keyframe_\d\d",
    i=r"\d+",
    j=r"\d+",
    study="|".join(TOY_STUDIES),
    family="|".join(FAMILIES),


def keyframe_index(grid):
    """k of a grid named zoom/keyframe_k, None for the overview."""
    return int(grid.rsplit("_", 1)[1]) if grid.startswith("zoom/") else None


def grid_resolution(condition, grid):
    study = STUDY[condition]
    return study.window.nx if grid == "overview" else study.zoom.resolution


def grid_tiles(condition, grid):
    """[rows, columns] of the tiles of a grid."""
    study = STUDY[condition]
    return list(study.tiles if grid == "overview" else study.zoom.tiles)


def grid_tile_files(condition, grid):
    """Tile files that make up a grid."""
    ti, tj = grid_tiles(condition, grid)
    return [
        f"results/{condition}/tiles/{grid}/{i}_{j}.npz"
        for i in range(ti)
        for j in range(tj)
    ]


def grid_window(condition, grid):
    """The overview's window (plain data); keyframe windows come from the zoom path file."""
    return STUDY[condition].window.to_dict() if grid == "overview" else None


def keyframe_files(condition, ext):
    zoom = STUDY[condition].zoom
    return [
        f"results/{condition}/zoom/keyframe_{k:02d}.{ext}" for k in range(zoom.levels)
    ]


def dimension_grids(condition):
    """The grids a condition's dimension pools: its zoom keyframes, or else its overview."""
    if STUDY[condition].zoom is None:
        return [f"results/{condition}/overview.npz"]
    return keyframe_files(condition, "npz")


def condition_targets(condition):
    """Everything a named condition target builds."""
    targets = [
        f"results/{condition}/overview.npz",
        f"results/{condition}/dimension.csv",
    ]
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


def family_layout(family):
    """[rows, columns] of a family's figure: depths x widths for the architectures."""
    if family == "architectures":
        arch = config["followup"]["architectures"]
        return [len(arch["depths"]), len(arch["widths"])]
    n = len(FAMILIES[family])
    return [(n + 3) // 4, min(n, 4)]


def lyapunov_condition():
    from trainability.condition import Condition

    base = {
        k: v for k, v in config["followup"]["base"].items() if hasattr(Condition, k)
    }
    return Condition(**base)


def lyapunov_window():
    from trainability.grid import Window

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
    "results/figures/paper_conditions.png",
    "results/tables/fractal_dimensions.csv",
    "results/tables/fractal_dimensions.md",
    *[f"results/toys/{study}.{ext}" for study in TOY_STUDIES for ext in ("csv", "png")],
    "results/report.html",
]
