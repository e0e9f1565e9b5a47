"""What a study is made of: the condition's fields (declared once) and `Condition`, the engine's
knobs (`Engine`, read from a config by `Engine.from_config`), windows and their exact
coordinates, the precision policy (which dtype and arithmetic compute a window), the ``.npz`` grid
format and atomic writes; and the plumbing every layer above shares: a workflow script's log
(`trainability.core.logs`) and the command line's integer flags (`trainability.core.flags`).

May import: `trainability.numerics`.
"""
