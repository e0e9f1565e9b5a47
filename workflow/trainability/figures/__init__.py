"""Pictures, one module per kind: heatmaps of grids (the paper's rank colour stretch), line plots,
zoom videos and seed-ensemble panels.

May import: every floor below it (`numerics` … `toys`).
"""
