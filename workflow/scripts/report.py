"""Snakemake adapter of rule report: the self-contained HTML report of the whole study."""

import sys

sys.stderr = open(snakemake.log[0], "w")  # noqa: F821  (snakemake is injected)

from pathlib import Path  # noqa: E402

from trainability.report import build_report  # noqa: E402

sm = snakemake  # noqa: F821
results = Path(sm.output.html).parent
bench = f"{results.as_posix()}/benchmarks/"
out = build_report(
    results,
    dict(sm.config),
    sm.output.html,
    repo_dir=sm.params.repo,
    benchmark_patterns={
        rule: pattern.removeprefix(bench)
        for rule, pattern in sm.params.benchmarks.items()
        if pattern.startswith(bench)
    },
)
print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)", file=sys.stderr)
