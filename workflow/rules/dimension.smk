# Fractal dimension of each trainability boundary by box counting (docs/methods.md).


rule dimension:
    """Box-counting dimension of a condition's boundary: paper's median slope and a fit."""
    input:
        grids=lambda w: dimension_grids(w.condition),
    output:
        "results/{condition}/dimension.csv",
    log:
        "results/logs/{condition}/dimension.log",
    benchmark:
        "results/benchmarks/{condition}/dimension.tsv"
    conda:
        "../../envs/trainability.yaml"
    params:
        paper=lambda w: config["conditions"].get(w.condition, {}).get("paper_dimension"),
    script:
        "../scripts/dimension.py"


rule dimension_table:
    """One row per condition, our estimates beside the paper's values."""
    input:
        expand(rules.dimension.output[0], condition=TABLED),
    output:
        csv=report(
            "results/tables/fractal_dimensions.csv",
            category="Tables",
            labels={"table": "fractal dimensions"},
            caption="../report/fractal_dimensions.rst",
        ),
        md="results/tables/fractal_dimensions.md",
    log:
        "results/logs/tables/fractal_dimensions.log",
    conda:
        "../../envs/trainability.yaml"
    script:
        "../scripts/dimension_table.py"


if RESOLUTION_STUDY:

    rule refinement_check:
        """A label-only panel's labels against full sweeps of sampled tiles (tiles = whole)."""
        input:
            "results/{condition}/panel_{resolution}.npz",
        output:
            "results/{condition}/panel_{resolution}_check.csv",
        log:
            "results/logs/{condition}/panel_{resolution}/check.log",
        benchmark:
            "results/benchmarks/{condition}/panel_{resolution}/check.tsv"
        wildcard_constraints:
            resolution=r"\d+",
        conda:
            "../../envs/trainability.yaml"
        threads: 1
        params:
            condition=lambda w: STUDY[w.condition].condition.to_dict(),
            window=lambda w: panel_window(w.condition, int(w.resolution)),
            engine=config["engine"],
            per_side=RESOLUTION_STUDY.get("labels_only", {}).get("check_tiles"),
            tiles_checked=RESOLUTION_STUDY.get("labels_only", {}).get("check"),
        script:
            "../scripts/refinement_check.py"

    rule resolution_study:
        """The dimension of every panel at several resolutions (a named target, not in all)."""
        input:
            grids=[
                resolution_grid(name, g["resolution"])
                for name, grids in RESOLUTION_GRIDS.items()
                for g in grids
            ],
            checks=[
                f"results/{name}/panel_{n}_check.csv" for name, n in refined_grids()
            ],
        output:
            csv="results/tables/resolution_study.csv",
            summary="results/tables/resolution_summary.csv",
            checks="results/tables/refinement_check.csv",
            png=report(
                "results/figures/resolution_study.png",
                category="Figures",
                labels={"figure": "dimension against resolution"},
                caption="../report/resolution_study.rst",
            ),
        log:
            "results/logs/tables/resolution_study.log",
        conda:
            "../../envs/trainability.yaml"
        params:
            conditions=list(RESOLUTION_GRIDS),
            titles=[STUDY[name].title for name in RESOLUTION_GRIDS],
            paper=[
                config["conditions"][name].get("paper_dimension")
                for name in RESOLUTION_GRIDS
            ],
            grids=list(RESOLUTION_GRIDS.values()),
            checked=refined_grids(),
        script:
            "../scripts/resolution_study.py"
