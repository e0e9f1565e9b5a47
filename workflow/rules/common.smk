# Helpers, wildcard constraints and target lists shared by the rules (no rules here).

import json


wildcard_constraints:
    condition="|".join(STUDY),
    grid="overview",
    i=r"\d+",
    j=r"\d+",


def grid_window(condition, grid):
    """The hyperparameter window of a grid of a condition (plain data)."""
    return STUDY[condition].window.to_dict()


def grid_tiles(condition, grid):
    """Tile files that make up a grid."""
    ti, tj = STUDY[condition].tiles
    return [
        f"results/{condition}/tiles/{grid}/{i}_{j}.npz"
        for i in range(ti)
        for j in range(tj)
    ]


def condition_targets(condition):
    """Everything a named condition target builds."""
    return [
        f"results/{condition}/overview.png",
        f"results/{condition}/dimension.csv",
    ]


ALL_TARGETS = [
    *[target for name in STUDY for target in condition_targets(name)],
    "results/figures/paper_conditions.png",
    "results/tables/fractal_dimensions.csv",
    "results/tables/fractal_dimensions.md",
]
