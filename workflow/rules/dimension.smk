# Fractal dimension of each trainability boundary by box counting (papers.md §1.3).


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
        expand("results/{condition}/dimension.csv", condition=TABLED),
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
