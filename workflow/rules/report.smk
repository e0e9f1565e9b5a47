# The final report: every output of the study gathered into one
# self-contained HTML file, and the front page of Snakemake's own report (`snakemake --report`).


report: "../report/workflow.rst"


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
