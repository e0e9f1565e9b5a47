"""Where a report comes from: code, config, packages, machine, and the run time of each rule.

`provenance` gathers the git commit (``-dirty`` when tracked files changed), the sha256 of the
validated config, package versions and the machine; `benchmark_times` sums Snakemake's benchmark
files per rule, crediting each file to the rule whose benchmark path pattern matches it.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

PACKAGES = ("trainability", "jax", "numpy", "snakemake", "matplotlib")


def config_hash(config: dict) -> str:
    """sha256 of the validated config as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def git_commit(repo_dir) -> str:
    """``git rev-parse HEAD`` in ``repo_dir`` (plus ``-dirty`` if tracked files changed), or
    ``unknown`` without git or outside a repository. Takes no lock on the index."""
    if repo_dir is None:
        return "unknown"
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}

    def git(*args):
        return subprocess.run(
            ["git", "-C", str(repo_dir), *args],
            capture_output=True,
            text=True,
            timeout=30,
            env=env,
        )

    try:
        head = git("rev-parse", "HEAD")
        if head.returncode != 0 or not re.fullmatch(r"[0-9a-f]{40,64}", head.stdout.strip()):
            return "unknown"
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    commit = head.stdout.strip()
    return commit + ("-dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")


def package_versions(packages=PACKAGES) -> dict[str, str]:
    versions = {}
    for name in packages:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def machine() -> dict[str, str]:
    return {
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpu_count": str(os.cpu_count()),
        "python": platform.python_version(),
    }


def provenance(config: dict, repo_dir=None) -> dict:
    """Everything the provenance section prints, as plain strings."""
    return {
        "git_commit": git_commit(repo_dir),
        "config_sha256": config_hash(config),
        "versions": package_versions(),
        "machine": machine(),
        "generated": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }


@dataclass(frozen=True)
class RuleTime:
    """Summed benchmark of one rule: jobs, total and longest wall seconds, peak RSS (MB)."""

    rule: str
    jobs: int
    seconds: float
    max_seconds: float
    max_rss_mb: float | None


def _pattern_parts(pattern: str) -> list[tuple[str, str | None]]:
    """A Snakemake path pattern as (literal text, wildcard) pairs: the wildcard is None after
    the last literal, ``""`` for ``{w}`` and the regex for ``{w,regex}`` (Snakemake inlines the
    wildcard constraints this way; the regex may hold braces)."""
    parts, literal, i = [], [], 0
    while i < len(pattern):
        if pattern[i] != "{":
            literal.append(pattern[i])
            i += 1
            continue
        depth, j = 1, i + 1
        while j < len(pattern) and depth:
            depth += {"{": 1, "}": -1}.get(pattern[j], 0)
            j += 1
        _, _, constraint = pattern[i + 1 : j - 1].partition(",")
        parts.append(("".join(literal), constraint.strip()))
        literal, i = [], j
    parts.append(("".join(literal), None))
    return parts


def _pattern_regex(pattern: str) -> re.Pattern:
    """The regex a benchmark path must match whole: ``{w}`` matches anything non-empty."""
    out = []
    for literal, wildcard in _pattern_parts(pattern):
        out.append(re.escape(literal))
        if wildcard is not None:
            out.append(f"(?:{wildcard})" if wildcard else ".+?")
    return re.compile("".join(out))


def _literal_length(pattern: str) -> int:
    return sum(len(literal) for literal, _ in _pattern_parts(pattern))


def _fallback_rule(rel: str) -> str:
    """Name for a benchmark file no pattern matches: its stem without trailing indices."""
    return re.sub(r"(_\d+)+$", "", Path(rel).stem) or Path(rel).stem


def read_benchmark(path) -> pd.DataFrame:
    """A Snakemake benchmark file (tab-separated, header ``s h:m:s max_rss ...``), one row per
    run of the job."""
    return pd.read_csv(path, sep="\t")


def benchmark_times(bench_dir, patterns: dict[str, str] | None = None) -> list[RuleTime]:
    """Per-rule run times summed over ``bench_dir/**/*.tsv``, longest total first.

    ``patterns`` maps rule name → benchmark path pattern relative to ``bench_dir`` (e.g.
    ``{condition}/dimension.tsv``); a file is credited to the first rule whose pattern matches it
    whole, most literal characters first. Unmatched files are grouped by their stem without
    trailing ``_i_j`` indices. A file with several rows (``repeat()``) counts its mean time.
    """
    bench_dir = Path(bench_dir)
    ordered = sorted(
        (patterns or {}).items(),
        key=lambda kv: -_literal_length(kv[1]),
    )
    compiled = [(rule, _pattern_regex(pat)) for rule, pat in ordered]
    totals: dict[str, list] = {}
    for path in sorted(bench_dir.rglob("*.tsv")) if bench_dir.is_dir() else []:
        rel = path.relative_to(bench_dir).as_posix()
        try:
            rows = read_benchmark(path)
        except (OSError, ValueError, UnicodeDecodeError):
            continue
        seconds = _column(rows, "s")
        if not seconds:
            continue
        rss = _column(rows, "max_rss")
        rule = next((name for name, rx in compiled if rx.fullmatch(rel)), None)
        rule = rule or _fallback_rule(rel)
        t = sum(seconds) / len(seconds)
        entry = totals.setdefault(rule, [0, 0.0, 0.0, None])
        entry[0] += 1
        entry[1] += t
        entry[2] = max(entry[2], t)
        if rss:
            entry[3] = max(rss) if entry[3] is None else max(entry[3], max(rss))
    times = [RuleTime(rule, *values) for rule, values in totals.items()]
    return sorted(times, key=lambda r: (-r.seconds, r.rule))


def _column(rows: pd.DataFrame, name: str) -> list[float]:
    """The finite numbers of a column (none if the column is missing)."""
    if name not in rows:
        return []
    values = pd.to_numeric(rows[name], errors="coerce").dropna()
    return [float(x) for x in values]


def hms(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
