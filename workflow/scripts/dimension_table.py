"""Snakemake adapter of rule dimension_table: the study's dimensions as CSV and Markdown."""

import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821  (snakemake is injected)

from trainability.io import atomic_path  # noqa: E402
from trainability.tables import DIMENSION_COLUMNS, markdown, read_csv, write_csv  # noqa: E402

sm = snakemake  # noqa: F821
rows = [row for path in sm.input for row in read_csv(path)]
write_csv(sm.output.csv, rows)
with atomic_path(sm.output.md) as tmp:
    tmp.write_text(
        "# Fractal dimensions of the trainability boundaries\n\n"
        "Box counting as in Sohl-Dickstein (2024): median local slope (the paper's number) and a "
        "least-squares fit with a 95 % bootstrap interval.\n\n" + markdown(rows, DIMENSION_COLUMNS)
    )
