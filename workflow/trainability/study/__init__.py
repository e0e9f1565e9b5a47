"""A study as the workflow runs it: the config (validated, expanded into conditions), the cost
plan and budget, and this machine's throughput calibration.

May import: every floor below it (`numerics` … `figures`).
"""
