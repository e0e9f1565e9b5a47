"""`stderr_to_log`: a workflow script's errors, import errors included, land in its log."""

import subprocess
import sys

from conftest import REPO

SCRIPT = """
import types
snakemake = types.SimpleNamespace(log=[{log!r}])
from trainability.core.logs import stderr_to_log
sm = stderr_to_log(snakemake)
import sys
assert sm is snakemake
print("to the log", file=sys.stderr)
import trainability.no_such_module
"""


def test_an_import_error_lands_in_the_log(tmp_path):
    log = tmp_path / "job.log"
    log.write_text("an earlier run's log\n")
    env = {"PYTHONPATH": str(REPO / "workflow")}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(log=str(log))], capture_output=True, text=True, env=env
    )
    assert result.returncode == 1 and result.stderr == ""
    text = log.read_text()
    assert text.startswith("to the log\n")
    assert "No module named 'trainability.no_such_module'" in text
