# Liu (2024): gradient descent on quadratics with a cosine ripple (docs/methods.md §6). Each study
# sweeps the learning rate for many losses, measures the boundary exponent alpha by boundary
# counting, and writes a table and a figure; each is a named target (toys_strip, ...).


rule toy_study:
    """One of Liu's studies: alpha of every loss it names, as CSV and figure."""
    output:
        csv="results/toys/{study}.csv",
        png=report(
            "results/toys/{study}.png",
            category="Cosine-perturbed quadratics",
            labels={"study": "{study}"},
            caption="../report/toys.rst",
        ),
    log:
        "results/logs/toys/{study}.log",
    benchmark:
        "results/benchmarks/toys/{study}.tsv"
    conda:
        "../../envs/trainability.yaml"
    params:
        settings=lambda w: config["toys"][w.study],
    script:
        "../scripts/toy_study.py"


for _study in TOY_STUDIES:

    rule:
        name:
            f"toys_{_study}"
        input:
            expand(rules.toy_study.output, study=_study),
