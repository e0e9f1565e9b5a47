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

    rule resolution_study:
        """The dimension of every panel at several resolutions (a named target, not in all)."""
        input:
            [
                resolution_grid(name, r)
                for name in PANELS
                for r in RESOLUTION_STUDY["resolutions"]
            ],
        output:
            csv="results/tables/resolution_study.csv",
            summary="results/tables/resolution_summary.csv",
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
            conditions=PANELS,
            titles=[STUDY[name].title for name in PANELS],
            paper=[config["conditions"][name].get("paper_dimension") for name in PANELS],
            resolutions=RESOLUTION_STUDY["resolutions"],
        script:
            "../scripts/resolution_study.py"
