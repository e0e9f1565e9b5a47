"""The networks a pixel trains and the draws of their weights and data: the paper's mean-field
MLP (`trainability.models.mlp`), with its hand-written forward and backward pass written once
over a number system (`trainability.numerics.number_systems`).

May import: `trainability.numerics`, `trainability.core`.
"""
