# Seed ensembles (docs/seeds.md): a condition with `seeds` is computed once per seed, each seed a
# condition of its own ({ensemble}_seed{k}, with its own tiles and jobs); one rule gathers them
# into the statistics over seeds, the probability maps and the two boundaries.


rule seeds:
    """Every ensemble: per-seed numbers, statistics over seeds, probability maps, figure."""
    input:
        grids=[ensemble_grid(m) for members in ENSEMBLES.values() for m in members],
        dimensions=expand(
            rules.dimension.output[0],
            condition=[m for members in ENSEMBLES.values() for m in members],
        ),
    output:
        summary=report(
            "results/tables/seeds.csv",
            category="Seeds",
            labels={"table": "seed ensembles"},
            caption="../report/seeds.rst",
        ),
        members="results/tables/seeds_members.csv",
        md="results/tables/seeds.md",
        png=report(
            "results/figures/seeds.png",
            category="Seeds",
            labels={"figure": "seed ensembles"},
            caption="../report/seeds.rst",
        ),
    log:
        "results/logs/tables/seeds.log",
    conda:
        "../../envs/trainability.yaml"
    params:
        ensembles={name: members for name, members in ENSEMBLES.items()},
        titles={name: ENSEMBLE_TITLES[name] for name in ENSEMBLES},
    script:
        "../scripts/seeds.py"


for _name, _members in ENSEMBLES.items():

    rule:
        name:
            _name
        input:
            [t for m in _members for t in condition_targets(m)],
            rules.seeds.output.summary,
