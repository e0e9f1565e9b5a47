"""Snakemake adapter of rule toy_study: one of Liu's studies as CSV and figure."""

from trainability.core.logs import stderr_to_log

sm = stderr_to_log(snakemake)  # noqa: F821  (snakemake is injected)

from trainability.analysis.tables import write_table
from trainability.figures.line_plots import save_toy_figure
from trainability.toys.studies import fractal_threshold, run_study

study = sm.wildcards.study
rows = run_study(study, sm.params.settings)
write_table(sm.output.csv, rows, columns=list(rows[0]))
title = ""
if study == "roughness":
    title = f"smallest additive roughness with a fractal boundary: {fractal_threshold(rows):.3g}"
save_toy_figure(sm.output.png, study, rows, title)
