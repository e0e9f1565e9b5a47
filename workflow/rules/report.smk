# The final report: every output of the study gathered into one
# self-contained HTML file, and the front page of Snakemake's own report (`snakemake --report`).


report: "../report/workflow.rst"


rule report:
    """One HTML page: methods, every condition, figures, tables, provenance and run times.

    Input: every target of the study but the report itself. The benchmark files are read when
    it runs; params.benchmarks maps each rule to its benchmark path pattern.
    """
    input:
        lambda w: [path for path in ALL_TARGETS if path != "results/report.html"],
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
        benchmarks=lambda w: {
            r.name: str(r.benchmark) for r in workflow.rules if r.benchmark is not None
        },
    script:
        "../scripts/report.py"
