"""Shared fixtures: the repository root and a way to run the workflow."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


TEST_CONFIG = REPO / "config" / "test.yaml"


def snakemake_command(workdir, *args, configfile=TEST_CONFIG) -> list[str]:
    """The command line that runs this repository's workflow in ``workdir``."""
    return [
        sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
        "--configfile", str(configfile), *args,
    ]  # fmt: skip


def snakemake(workdir, *args, configfile=TEST_CONFIG, check=True, **popen):
    """Run the workflow of this repository in ``workdir``; returns the CompletedProcess."""
    cmd = snakemake_command(workdir, *args, configfile=configfile)
    # the built-in throughput figures, not this machine's cached calibration (docs/cost.md)
    no_cache = str(Path(workdir) / ".no-calibration.json")  # never written: Snakemake only reads
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TRAINABILITY_CALIBRATION": no_cache}
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, **popen)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


@pytest.fixture(scope="session")
def test_study(tmp_path_factory):
    """The test study run once end to end; tests only read its outputs."""
    workdir = tmp_path_factory.mktemp("study")
    snakemake(workdir, "--cores", "2")
    return workdir


CI = bool(os.environ.get("CI"))
CHROMIUM = "/usr/bin/chromium"  # Debian's chromium (.ci/run installs it)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def playwright_or_skip():
    """sync_playwright, or skip (outside CI) / fail (in CI) when it or chromium is missing."""
    missing = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "the playwright package is not installed (pip install -e '.[dev]')"
    if missing is None and not os.access(CHROMIUM, os.X_OK):
        missing = f"{CHROMIUM} is missing (apt-get install chromium)"
    if missing:
        if CI:
            pytest.fail(f"browser test cannot run in CI: {missing}")
        pytest.skip(missing)
    return sync_playwright
