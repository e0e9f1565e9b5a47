"""The study's final report (one self-contained HTML page), split by job:

- `inputs`: the files the Snakemake rule names, grouped by what they are;
- `describe`: the sentences describing each condition, generated from its grid's metadata;
- `page`: the page's sections and their assembly (`build_report`);
- `media`: pictures and videos inlined as ``data:`` URIs (WebM transcoding);
- `markup`: escaping, anchors, number formatting, HTML tables;
- `provenance`: git commit, config hash, versions, machine, run time per rule.
"""

from trainability.report.inputs import ReportInputs, condition_titles, named_inputs
from trainability.report.page import build_report

__all__ = ["ReportInputs", "build_report", "condition_titles", "named_inputs"]
