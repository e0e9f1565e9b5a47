# Where the fractal ends (docs/fractal_end.md): for each training length T a zoom concentric on
# a boundary point, the box-counting slope of every keyframe, and the depth d*(T) below which
# the boundary is smooth beside the prediction from the maximal Lyapunov exponent. A named
# target (fractal_end), not part of `all`.


if FRACTAL_END:

    rule fractal_end_path:
        """The boundary point (bisection along the study's line) and the exact keyframes."""
        output:
            "results/fractal_end/T{steps}/path.json",
        log:
            "results/logs/fractal_end/T{steps}/path.log",
        benchmark:
            "results/benchmarks/fractal_end/T{steps}/path.tsv"
        wildcard_constraints:
            steps=r"\d+",
        conda:
            "../../envs/trainability.yaml"
        params:
            zoom=lambda w: FRACTAL_END[int(w.steps)],
            engine=config["engine"],
        script:
            "../scripts/fractal_end_path.py"

    rule fractal_end_keyframe:
        """One keyframe of the zoom at T steps, swept whole."""
        input:
            rules.fractal_end_path.output,
        output:
            "results/fractal_end/T{steps}/keyframe_{k}.npz",
        log:
            "results/logs/fractal_end/T{steps}/keyframe_{k}.log",
        benchmark:
            "results/benchmarks/fractal_end/T{steps}/keyframe_{k}.tsv"
        wildcard_constraints:
            steps=r"\d+",
            k=r"\d\d",
        conda:
            "../../envs/trainability.yaml"
        threads: 1
        params:
            zoom=lambda w: FRACTAL_END[int(w.steps)],
            engine=config["engine"],
        script:
            "../scripts/fractal_end_keyframe.py"

    rule fractal_end_lyapunov:
        """Maximal Lyapunov exponents of a small window at the boundary point (float64)."""
        input:
            rules.fractal_end_path.output,
        output:
            "results/fractal_end/T{steps}/lyapunov.npz",
        log:
            "results/logs/fractal_end/T{steps}/lyapunov.log",
        benchmark:
            "results/benchmarks/fractal_end/T{steps}/lyapunov.tsv"
        wildcard_constraints:
            steps=r"\d+",
        conda:
            "../../envs/trainability.yaml"
        params:
            zoom=lambda w: FRACTAL_END[int(w.steps)],
            lyapunov=config.get("fractal_end", {}).get("lyapunov"),
        script:
            "../scripts/fractal_end_lyapunov.py"

    rule fractal_end:
        """d*(T) and the slopes along every zoom: table and figure (a named target, not in all)."""
        input:
            keyframes=[f for t in FRACTAL_END for f in fractal_end_keyframes(t)],
            lyapunov=expand(
                rules.fractal_end_lyapunov.output[0], steps=list(FRACTAL_END)
            ),
        output:
            csv=report(
                "results/tables/fractal_end.csv",
                category="Tables",
                labels={"table": "where the fractal ends"},
                caption="../report/fractal_end.rst",
            ),
            keyframes="results/tables/fractal_end_keyframes.csv",
            png=report(
                "results/figures/fractal_end.png",
                category="Figures",
                labels={"figure": "where the fractal ends"},
                caption="../report/fractal_end.rst",
            ),
        log:
            "results/logs/tables/fractal_end.log",
        conda:
            "../../envs/trainability.yaml"
        params:
            levels={t: zoom["levels"] for t, zoom in FRACTAL_END.items()},
            overview_width=[zoom["overview_width"] for zoom in FRACTAL_END.values()][0],
            smooth=config.get("fractal_end", {}).get("smooth"),
            title=lambda w: STUDY[config["fractal_end"]["condition"]].title,
        script:
            "../scripts/fractal_end.py"
