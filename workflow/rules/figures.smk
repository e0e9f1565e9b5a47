# Heatmaps with the paper's look: rank colour stretch, Spectral, edge ticks (papers.md §1.2).


rule heatmap:
    """Draw a condition's overview (keyframes are drawn together, in zoom.smk)."""
    input:
        "results/{condition}/{grid}.npz",
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
        grid="overview",
    conda:
        "../../envs/trainability.yaml"
    params:
        title=lambda w: STUDY[w.condition].title,
    script:
        "../scripts/heatmap.py"


rule paper_figure:
    """The paper's six-panel figure (3 rows x 2 columns), each titled with its dimension."""
    input:
        grids=expand("results/{condition}/overview.npz", condition=PAPER),
        dimensions=expand("results/{condition}/dimension.csv", condition=PAPER),
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
        titles=[STUDY[name].title for name in PAPER],
    script:
        "../scripts/paper_figure.py"
