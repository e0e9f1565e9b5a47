"""The networks a pixel trains and the draws of their weights and data: the paper's mean-field
MLP (`trainability.models.mlp`), with its hand-written forward and backward pass written once
over a number system (`trainability.numerics.number_systems`); a small cnn
(`trainability.models.cnn`) and a tiny transformer (`trainability.models.transformer`) in
Equinox; scikit-learn's digits (`trainability.models.datasets`); and one interface over every
network, its loss and its data (`trainability.models.networks`).

May import: `trainability.numerics`, `trainability.core`.
"""
