"""Fractal trainability boundaries: the workflow.

Methods, in the order the rules run (Sohl-Dickstein 2024; docs/methods.md §1):
  1. every condition of the study trains one mean-field MLP per pixel of a 2-D grid of
     hyperparameters, the grid cut into tiles that run as independent jobs (sweep.smk);
  2. the tiles are merged into one grid per condition and drawn as heatmaps with the paper's
     rank colour stretch, alone and as the six-panel figure (figures.smk);
  3. the fractal dimension of each trainability boundary is estimated by box counting over
     its zoom keyframes (or its overview) and tabulated next to the paper's values
     (dimension.smk);
  4. zoom sequences: keyframe windows halving down a path into the boundary, each swept like
     the overview, shown as a keyframe strip and a video (zoom.smk); past float64 in exact
     coordinates and double-double arithmetic (docs/precision.md); where the fractal ends: the
     depth below which the boundary is smooth, against the training length (fractal_end.smk,
     a named target);
  5. Liu's cosine-perturbed quadratics: the boundary exponent over learning-rate strips as the
     ripple's roughness, the dimension and the initial point vary (toys.smk);
  6. the follow-up report: activations, width x depth, weight perturbations as families of
     conditions, and per-pixel Lyapunov exponents (followup.smk); seed ensembles: statistics
     over seeds, probability maps, the stability boundary (seeds.smk);
  7. everything assembled into one self-contained page, results/report.html (report.smk).
Configuration: config/config.yaml (validated against workflow/schemas/config.schema.yaml before
any job runs). Each condition's name is also a target: `snakemake --cores 2 tanh_minibatch`.
"""

import sys
from pathlib import Path

from snakemake.utils import min_version

from trainability.study.config import ConfigError, load_study
from trainability.study.plan import check_study, tile_backend

min_version("9.0")


# The default study, unless --configfile names another: a config file is a whole study, so it
# replaces this one rather than being merged into it (Snakemake would merge them).
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


try:
    validated, STUDY = load_study(
        config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
    )
    # the cost estimate and budget (docs/cost.md), checked once: jobs re-read this file
    PLAN = None
    if workflow.is_main_process:
        backend = tile_backend(workflow.resource_settings.overwrite_resources)
        PLAN = check_study(validated, STUDY, backend)
except ConfigError as err:
    raise SystemExit(f"trainability-fractals: {err}")
config.update(validated)


onstart:
    if PLAN is not None:
        cores = workflow.cores if workflow.local_exec else workflow.nodes
        print(PLAN.start_block(cores, validated["budget"]), file=sys.stderr)


include: "workflow/rules/common.smk"
include: "workflow/rules/sweep.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/dimension.smk"
include: "workflow/rules/fractal_end.smk"
include: "workflow/rules/zoom.smk"
include: "workflow/rules/toys.smk"
include: "workflow/rules/followup.smk"
include: "workflow/rules/seeds.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        ALL_TARGETS,


for _name in STUDY:

    rule:
        name:
            _name
        input:
            condition_targets(_name),
