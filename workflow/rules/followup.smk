# The follow-up report's studies (docs/methods.md §7): families of conditions generated from the
# config (activations, width x depth, weight perturbations), each swept like any condition and
# drawn as one figure with a table; and per-pixel Lyapunov exponents.


rule family_figure:
    """One family of conditions as a panel figure (titles with dimensions) and a table: each
    member's overview, or its deepest zoom keyframe where it zooms (`family_grid`)."""
    input:
        grids=lambda w: [family_grid(c) for c in FAMILIES[w.family]],
        dimensions=lambda w: expand(
            rules.dimension.output[0], condition=FAMILIES[w.family]
        ),
    output:
        png=report(
            "results/figures/{family}.png",
            category="Follow-up report",
            labels={"figure": "{family}"},
            caption="../report/family.rst",
        ),
        csv="results/tables/{family}.csv",
    log:
        "results/logs/figures/{family}.log",
    conda:
        "../../envs/trainability.yaml"
    params:
        names=lambda w: FAMILIES[w.family],
        titles=lambda w: [STUDY[c].title for c in FAMILIES[w.family]],
        layout=lambda w: family_layout(w.family),
    script:
        "../scripts/family_figure.py"


rule lyapunov:
    """Twin-trajectory estimate and maximal Lyapunov exponent per pixel, boundary overlaid."""
    output:
        twin="results/lyapunov/twin.npz",
        maximal="results/lyapunov/maximal.npz",
        png=report(
            "results/figures/lyapunov.png",
            category="Follow-up report",
            labels={"figure": "lyapunov"},
            caption="../report/lyapunov.rst",
        ),
    log:
        "results/logs/figures/lyapunov.log",
    benchmark:
        "results/benchmarks/lyapunov/lyapunov.tsv"
    conda:
        "../../envs/trainability.yaml"
    params:
        condition=lambda w: lyapunov_condition().to_dict(),
        window=lambda w: lyapunov_window().to_dict(),
        epsilon=lambda w: config["followup"]["lyapunov"]["epsilon"],
    script:
        "../scripts/lyapunov.py"


for _family in FAMILIES:

    rule:
        name:
            _family
        input:
            expand(rules.family_figure.output, family=_family),


if "followup" in config:

    rule:
        name:
            "lyapunov_exponents"
        input:
            rules.lyapunov.output,
