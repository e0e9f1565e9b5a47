"""A Snakemake job's log: where a workflow script's standard error goes.

Each script under workflow/scripts starts with ``sm = stderr_to_log(snakemake)``, before it
imports anything else, so that an import error, a warning or a traceback lands in the rule's
log file, not on the console. This module imports nothing of the library (and no JAX), so that
statement itself can hardly fail.
"""

import sys


def stderr_to_log(snakemake):
    """Send this process's standard error to the job's log file, ``snakemake.log[0]``
    (truncated), for the rest of the process; returns ``snakemake``, the job's object that
    Snakemake injects into the script."""
    sys.stderr = open(snakemake.log[0], "w")  # open until the process ends
    return snakemake
