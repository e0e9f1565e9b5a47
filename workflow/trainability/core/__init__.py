"""What a study is made of: the condition's fields (declared once) and `Condition`, the engine's
knobs (`Engine`), windows and their exact coordinates, the precision policy (which dtype and
arithmetic compute a window), the ``.npz`` grid format and atomic writes.

May import: `trainability.numerics`.
"""
