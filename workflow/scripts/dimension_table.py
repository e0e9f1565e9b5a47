"""Snakemake adapter of rule dimension_table: the study's dimensions as CSV and Markdown."""

from trainability.core.logs import stderr_to_log

sm = stderr_to_log(snakemake)  # noqa: F821  (snakemake is injected)

import pandas as pd

from trainability.analysis.tables import markdown, read_table, write_table
from trainability.core.atomic import atomic_path

rows = pd.concat([read_table(path) for path in sm.input], ignore_index=True)
write_table(sm.output.csv, rows)
with atomic_path(sm.output.md) as tmp:
    tmp.write_text(
        "# Fractal dimensions of the trainability boundaries\n\n"
        "D is the paper's estimator (Sohl-Dickstein 2024): the median of the local box-counting "
        "slopes pooled over a condition's images; the fit is a least-squares slope over a "
        "scaling range. Each is shown to the digits its 95 % interval supports (centred on the "
        "estimate: the spread over random box-grid placements and resampled images), or says "
        "why it was refused: *not enough scales* when the images' box sizes span less than a "
        "decade (images under 101 px per side), *no boundary* when no image changes phase. "
        "Full-precision numbers are in the CSV; the method is in docs/dimension.md.\n\n"
        + markdown(rows)
    )
