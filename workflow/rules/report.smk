# The final report: every output of the study gathered into one
# self-contained HTML file, and the front page of Snakemake's own report (`snakemake --report`).


report: "../report/workflow.rst"


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
    for name in config["conditions"]:
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


rule report:
    """One HTML page: methods, every condition, figures, tables, provenance and run times.

    Input: the files the page shows, by name (report_inputs), and every other target. The
    benchmark files are read when it runs; params.benchmarks maps each rule to its benchmark
    path pattern.
    """
    input:
        unpack(report_inputs),
    output:
        html=report(
            "results/report.html",
            category="Report",
            labels={"document": "HTML report"},
            caption="../report/report.rst",
        ),
    log:
        "results/logs/report.log",
    conda:
        "../../envs/trainability.yaml"
    params:
        repo=workflow.basedir,
        benchmark_dir="results/benchmarks",
        benchmarks=lambda w: {
            r.name: str(r.benchmark) for r in workflow.rules if r.benchmark is not None
        },
    script:
        "../scripts/report.py"
