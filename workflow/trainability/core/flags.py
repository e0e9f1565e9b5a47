"""The command line's integer flags: one argparse validator, and one sentence when it refuses.

Every integer flag of ``python -m trainability`` (its verbs and ``explore``) is parsed by
`integer`: the sentence says what is allowed and what was given, and argparse prefixes the
flag's name (``argument --steps: must be an integer >= 1, got 0``).
"""

import argparse


def integer(low: int, high: int | None = None, *, off: int | None = None):
    """An argparse ``type``: integers from ``low`` (up to ``high``, when given), and ``off``, a
    value outside that range that switches a feature off (``--refine``'s 0). A refused value
    raises `argparse.ArgumentTypeError`: ``must be [OFF (off) or ]an integer >= LOW[ and <=
    HIGH], got VALUE``, the value as typed when it is no integer."""
    allowed = f"an integer >= {low}" + ("" if high is None else f" and <= {high}")
    if off is not None:
        allowed = f"{off} (off) or {allowed}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {text!r}") from None
        if value != off and (value < low or (high is not None and value > high)):
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {value}")
        return value

    return parse
