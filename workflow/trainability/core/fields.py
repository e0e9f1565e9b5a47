"""Declared fields: each field of a frozen dataclass says once what it is, and the rest follows.

A field is declared in the class body with `integer`, `number`, `choice` or `boolean`, which
record its kind, default, allowed values (a set of names, or an `Interval`; ``nullable`` adds
None), help text, group, whether it may span a grid axis (and then its axis title), and which
other field's value it is read with (``needs``). From that one declaration come:

- the value check (`problem`, `check_fields`): one sentence naming the field, or nothing;
- its command-line flag (`add_arguments`, `from_arguments`): ``--`` and the name with dashes,
  parsed and checked by the same rule, with the help text and default;
- its JSON Schema property (`schema_properties`), which the study's schema file carries;
- its row of the reference table in ``config/README.md`` (`reference_table`);
- whether it is read at all with the other fields' values (`read_with`).

``python -m trainability.core.condition`` prints the condition's schema properties and
reference table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

KINDS = ("integer", "number", "choice", "boolean")


@dataclass(frozen=True)
class Interval:
    """A set of finite numbers between ``low`` and ``high``, each end open or closed."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False

    def contains(self, value) -> bool:
        try:
            finite = math.isfinite(value)
        except OverflowError:  # an integer beyond the float range
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return bool(finite and above and below)

    def __str__(self) -> str:
        """``[0, 1)``, ``[0, inf)``, ``(-inf, inf)``: infinite ends are open (values are finite)."""
        left = "(" if self.low_open or math.isinf(self.low) else "["
        right = ")" if self.high_open or math.isinf(self.high) else "]"
        return f"{left}{self.low:g}, {self.high:g}{right}"

    def phrase(self) -> str:
        """What a value must be, to follow a noun: ``" >= 1"``, ``" in [0, 1)"`` or ``""``."""
        if math.isinf(self.high):
            if math.isinf(self.low):
                return ""
            return f" {'>' if self.low_open else '>='} {self.low:g}"
        return f" in {self}"


@dataclass(frozen=True)
class Spec:
    """The declaration of one field (its default lives in the dataclass field itself).

    ``choices`` may be a function returning the names, for a set defined after the class
    (the axis names of `trainability.core.condition`). ``needs`` = (field, values): the field is
    only read when that other field has one of those values. ``title``: the axis title of a
    field that may span a grid axis (``axis``), as figures label the axis.
    """

    kind: str
    group: str
    help: str
    choices: tuple[str, ...] | Callable[[], tuple[str, ...]] = ()
    interval: Interval = Interval()
    nullable: bool = False
    axis: bool = False
    needs: tuple[str, tuple[str, ...]] | None = None
    title: str | None = None

    @property
    def allowed(self) -> tuple[str, ...]:
        return self.choices() if callable(self.choices) else self.choices

    def describe(self) -> str:
        """What a value must be, as in the error messages: "an integer >= 1", …"""
        if self.kind == "choice":
            text = f"one of {', '.join(self.allowed)}"
        elif self.kind == "boolean":
            text = "true or false"
        else:
            noun = "an integer" if self.kind == "integer" else "a finite number"
            text = noun + self.interval.phrase()
        return text + (" or null" if self.nullable else "")


def integer(
    default,
    group: str,
    help: str,
    *,
    low: int | None = None,
    nullable=False,
    needs: tuple[str, tuple[str, ...]] | None = None,
):
    """An integer field, ``low`` or more; ``needs`` as in `Spec`."""
    bounds = Interval() if low is None else Interval(low=low)
    spec = Spec("integer", group, help, interval=bounds, nullable=nullable, needs=needs)
    return _declare(default, spec)


def number(
    default,
    group: str,
    help: str,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = False,
    nullable: bool = False,
    axis: bool = False,
    title: str | None = None,
    needs: tuple[str, tuple[str, ...]] | None = None,
):
    """A finite real field in an interval; ``axis``: it may span a grid axis instead, labelled
    ``title`` (required then); ``needs`` as in `Spec`."""
    if axis != (title is not None):
        raise ValueError("a field that may span an axis has a title, and only such a field")
    bounds = Interval(low, high, low_open, high_open)
    spec = Spec("number", group, help, (), bounds, nullable, axis, needs, title)
    return _declare(default, spec)


def choice(default, choices, group: str, help: str, *, nullable: bool = False):
    """A field holding one name of ``choices`` (a tuple, or a function returning one)."""
    return _declare(default, Spec("choice", group, help, choices=choices, nullable=nullable))


def boolean(default: bool, group: str, help: str):
    """A true/false field; its flag switches it on, so it is false by default."""
    if default is not False:
        raise ValueError("a boolean field is false by default (its flag switches it on)")
    return _declare(default, Spec("boolean", group, help))


def _declare(default, spec: Spec):
    if spec.kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {spec.kind!r}")
    return dataclasses.field(default=default, metadata={"spec": spec})


def specs(cls) -> dict[str, tuple[Spec, object]]:
    """(declaration, default) of every field of ``cls``, in declaration order."""
    return {f.name: (f.metadata["spec"], f.default) for f in dataclasses.fields(cls)}


def read_with(obj, field: str) -> tuple[str, ...]:
    """The fields of ``obj`` declared with ``needs=(field, values)`` whose values hold
    ``obj``'s value of ``field`` (the fields that value makes read), in declaration order."""
    value = getattr(obj, field)
    return tuple(
        name
        for name, (spec, _) in specs(type(obj)).items()
        if spec.needs is not None and spec.needs[0] == field and value in spec.needs[1]
    )


def controlling(cls) -> tuple[str, ...]:
    """The fields of ``cls`` that some field ``needs``, each once, in order of first need."""
    return tuple(dict.fromkeys(s.needs[0] for s, _ in specs(cls).values() if s.needs is not None))


def problem(name: str, spec: Spec, value) -> str | None:
    """One sentence saying why ``value`` is not allowed for the field, or None if it is."""
    if value is None and spec.nullable:
        return None
    if spec.kind == "choice":
        ok = isinstance(value, str) and value in spec.allowed
    elif spec.kind == "boolean":
        ok = isinstance(value, bool)
    elif spec.kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        ok = ok and spec.interval.contains(value)
    else:
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        ok = ok and spec.interval.contains(value)
    if ok:
        return None
    must = spec.describe()
    return f"{name} must be {must}{';' if spec.kind == 'choice' else ','} got {value!r}"


def check_fields(obj, error: type[Exception]) -> None:
    """Raise ``error`` with one sentence for the first field of ``obj`` whose value is not
    allowed by its declaration."""
    for name, (spec, _) in specs(type(obj)).items():
        message = problem(name, spec, getattr(obj, name))
        if message is not None:
            raise error(message)


def flag(name: str) -> str:
    """The command-line flag of a field: ``--`` and the name with dashes."""
    return "--" + name.replace("_", "-")


def add_arguments(parser: argparse.ArgumentParser, cls, groups: dict[str, str]) -> None:
    """One flag per field of ``cls``, in one argument group per entry of ``groups`` (key →
    title), parsed and checked by the field's declaration."""
    table = specs(cls)
    for key, title in groups.items():
        group = parser.add_argument_group(title)
        for name, (spec, default) in table.items():
            if spec.group == key:
                group.add_argument(flag(name), **_argument(name, spec, default))


def _argument(name: str, spec: Spec, default) -> dict:
    shown = "none" if default is None else default
    kwargs = {
        "dest": name,
        "default": default,
        "help": f"{spec.help} (default: {shown})".replace("%", "%%"),
    }
    if spec.kind == "boolean":
        return {**kwargs, "action": "store_true", "help": spec.help.replace("%", "%%")}
    if spec.kind == "choice":
        many = len(spec.allowed) > 6
        return {**kwargs, "choices": spec.allowed, **({"metavar": "NAME"} if many else {})}
    convert = int if spec.kind == "integer" else float

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            value = text
        message = problem(name, spec, value)
        if message is not None:
            raise argparse.ArgumentTypeError(message)
        return value

    parse.__name__ = spec.kind  # argparse names the type in some messages
    return {**kwargs, "type": parse}


def from_arguments(cls, args: argparse.Namespace):
    """An instance of ``cls`` from the parsed flags of `add_arguments`."""
    return cls(**{name: getattr(args, name) for name in specs(cls)})


def schema_properties(cls) -> dict[str, dict]:
    """The JSON Schema (draft 7) property of every field, keyed by name."""
    return {name: _schema(spec) for name, (spec, _) in specs(cls).items()}


def _schema(spec: Spec) -> dict:
    out: dict = {}
    if spec.kind == "choice":
        if spec.nullable:
            out["type"] = ["string", "null"]
        out["enum"] = [*spec.allowed, *([None] if spec.nullable else [])]
    else:
        out["type"] = [spec.kind, "null"] if spec.nullable else spec.kind
        bounds = spec.interval
        if math.isfinite(bounds.low):
            out["exclusiveMinimum" if bounds.low_open else "minimum"] = bounds.low
        if math.isfinite(bounds.high):
            out["exclusiveMaximum" if bounds.high_open else "maximum"] = bounds.high
    out["description"] = spec.help
    return out


def reference_table(cls, groups: dict[str, str]) -> str:
    """The Markdown reference of the fields of ``cls``: one table per group."""
    table = specs(cls)
    parts = []
    for key, title in groups.items():
        rows = [
            f"| `{name}` | {_values(spec)} | {_shown(default)} | {spec.help} |"
            for name, (spec, default) in table.items()
            if spec.group == key
        ]
        head = ["| key | values | default | meaning |", "|---|---|---|---|"]
        parts.append("\n".join([f"**{title}**", "", *head, *rows]))
    return "\n\n".join(parts).replace(">=", "≥")


def _values(spec: Spec) -> str:
    if spec.kind == "choice":
        text = ", ".join(f"`{c}`" for c in spec.allowed)
    elif spec.kind == "boolean":
        text = "`true`, `false`"
    else:
        text = spec.kind + spec.interval.phrase()
    return text + (" or `null`" if spec.nullable else "")


def _shown(default) -> str:
    if default is None:
        return "`null`"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    return f"`{default}`" if isinstance(default, str) else f"{default:g}"


def schema_yaml(cls) -> str:
    """`schema_properties` as the schema file writes them: one flow-style line per field."""
    return "\n".join(
        f"{name}: {{{', '.join(f'{k}: {_yaml(v)}' for k, v in prop.items())}}}"
        for name, prop in schema_properties(cls).items()
    )


def _yaml(value) -> str:
    """A YAML flow scalar or list: plain names and numbers bare, other text JSON-quoted."""
    if isinstance(value, list):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, str):
        plain = value.replace("_", "").isalnum() and value not in ("null", "true", "false")
        return value if plain else json.dumps(value, ensure_ascii=False)
    return f"{value:g}" if isinstance(value, float) else str(value)
