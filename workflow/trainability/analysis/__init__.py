"""What is measured on grids: box-counting dimensions, statistics over seed ensembles, Lyapunov
exponents, and the CSV and Markdown tables they are written into.

May import: `trainability.numerics`, `trainability.core`, `trainability.models`,
`trainability.train`.
"""
