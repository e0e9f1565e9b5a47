# Heatmaps with the paper's look: rank colour stretch, Spectral, edge ticks (docs/methods.md).


rule heatmap:
    """Draw a condition's overview or panel (keyframes are drawn together, in zoom.smk)."""
    input:
        rules.merge_tiles.output,
    output:
        report(
            "results/{condition}/{grid}.png",
            category="Conditions",
            subcategory="{condition}",
            labels={"condition": "{condition}", "figure": "{grid}"},
            caption="../report/heatmap.rst",
        ),
    log:
        "results/logs/{condition}/{grid}/heatmap.log",
    wildcard_constraints:
        grid="overview|panel",
    conda:
        "../../envs/trainability.yaml"
    params:
        title=lambda w: STUDY[w.condition].title,
    script:
        "../scripts/heatmap.py"


rule paper_figure:
    """The paper's figure: each condition at its published window (its panel), 3 rows x 2
    columns, titled with our dimension beside the paper's."""
    input:
        grids=expand(rules.merge_tiles.output[0], condition=PANELS, grid="panel"),
        dimensions=expand("results/{condition}/dimension.csv", condition=PANELS),
    output:
        report(
            "results/figures/paper_conditions.png",
            category="Figures",
            labels={"figure": "paper conditions"},
            caption="../report/paper_conditions.rst",
        ),
    log:
        "results/logs/figures/paper_conditions.log",
    conda:
        "../../envs/trainability.yaml"
    params:
        titles=[STUDY[name].title for name in PANELS],
        paper=[config["conditions"][name].get("paper_dimension") for name in PANELS],
    script:
        "../scripts/paper_figure.py"


rule overviews_figure:
    """The 9-decade overviews of the paper's conditions side by side."""
    input:
        grids=expand(rules.merge_tiles.output[0], condition=PAPER, grid="overview"),
    output:
        report(
            "results/figures/overviews.png",
            category="Figures",
            labels={"figure": "overviews"},
            caption="../report/overviews.rst",
        ),
    log:
        "results/logs/figures/overviews.log",
    conda:
        "../../envs/trainability.yaml"
    params:
        titles=[STUDY[name].title for name in PAPER],
        paper=[None for name in PAPER],
    script:
        "../scripts/paper_figure.py"
