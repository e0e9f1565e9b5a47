"""Snakemake adapter of rule report: the self-contained HTML report of the whole study."""

import sys

from trainability.core.logs import stderr_to_log

sm = stderr_to_log(snakemake)  # noqa: F821  (snakemake is injected)

from trainability.report import build_report, condition_titles, named_inputs

bench = f"{sm.params.benchmark_dir}/"
out = build_report(
    named_inputs(dict(sm.input.items()), condition_titles(sm.config)),
    dict(sm.config),
    sm.output.html,
    repo_dir=sm.params.repo,
    benchmark_dir=sm.params.benchmark_dir,
    benchmark_patterns={
        rule: pattern.removeprefix(bench)
        for rule, pattern in sm.params.benchmarks.items()
        if pattern.startswith(bench)
    },
)
print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)", file=sys.stderr)
