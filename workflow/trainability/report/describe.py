"""Sentences that describe a computed condition, generated from its grid's metadata.

Every word the report says about one condition (network, data, optimizer and its settings,
learning-rate schedule, batch, steps, the two axes with their scales and ranges, pixels) is
built here from the metadata the sweep wrote into the condition's grid
(`trainability.train.sweep.sweep_meta`): the `Condition` it was computed with and its `Window`.
Nothing is assumed about a condition, so an Adam condition on a linear axis is described as
one.

Which settings are named follows the fields' declarations (`trainability.core.condition`): a
field declared with ``needs=(field, values)`` is named exactly when the condition's ``field``
has one of ``values`` (`trainability.core.fields.read_with`) — the optimizer's settings in
parentheses after the optimizer, the schedule's after the schedule, and those of any other
field as ``field value (settings)`` after the initial weights. A new field declared so appears
here without a change to this module. Each setting is written ``name value``, or ``name on
the x axis`` when it spans one.
"""

from __future__ import annotations

from trainability.core.condition import FIXED_LR, FIXED_LR_HIDDEN, Condition
from trainability.core.fields import controlling, read_with
from trainability.figures.heatmap import axis_labels

OPTIMIZER_NAMES = {
    "gd": "gradient descent",
    "momentum": "heavy-ball momentum",
    "nesterov": "Nesterov momentum",
    "adam": "Adam",
}
# the fields whose settings have a phrase of their own below; any other field that a field
# ``needs`` is described by `settings_phrase`
OWN_PHRASE = ("optimizer", "schedule")
SCALE_WORDS = {"log": "log scale", "linear": "linear scale"}


def condition_of(meta: dict) -> Condition:
    """The `Condition` a grid was computed with, from its metadata."""
    return Condition(**meta["condition"])


def _settings(cond: Condition, names, axes) -> str:
    """``"beta1 0.9, adam_eps 1e-08; beta2 on the y axis"`` (or ``""``)."""
    fixed = [f"{n} {_shown(getattr(cond, n))}" for n in names if n not in axes]
    swept = [f"{n} on the {'xy'[axes.index(n)]} axis" for n in names if n in axes]
    return "; ".join(part for part in (", ".join(fixed), ", ".join(swept)) if part)


def _shown(value) -> str:
    """A number in ``g`` format (``1e-08``, ``100``), anything else (a name) as it is."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return f"{value:g}" if is_number else str(value)


def optimizer_phrase(cond: Condition) -> str:
    """``"Adam (beta1 0.9, adam_eps 1e-08; beta2 on the y axis)"``, ``"gradient descent"``."""
    name = OPTIMIZER_NAMES[cond.optimizer]
    settings = _settings(cond, read_with(cond, "optimizer"), cond.axis_names)
    return f"{name} ({settings})" if settings else name


def training_phrase(cond: Condition) -> str:
    """How the condition trains: steps, batch, optimizer, schedule, weight decay."""
    axes = cond.axis_names
    batch = "the full batch" if cond.batch_size is None else f"minibatches of {cond.batch_size}"
    out = f"trained for {cond.steps} steps by {optimizer_phrase(cond)} on {batch}"
    sources = cond.lr_sources()
    rates = [f"lr {cond.lr:g}"] if FIXED_LR in sources else []
    rates += [f"lr_hidden {cond.lr_hidden:g}"] if FIXED_LR_HIDDEN in sources else []
    out += f" ({', '.join(rates)} where no axis sets the learning rate)" if rates else ""
    settings = _settings(cond, read_with(cond, "schedule"), axes)
    if cond.schedule != "constant" or settings:
        out += f", {cond.schedule} learning-rate schedule" + (f" ({settings})" if settings else "")
    if cond.weight_decay or "weight_decay" in axes:
        decay = _settings(cond, ("weight_decay",), axes)
        out += f", {cond.weight_decay_mode} weight decay ({decay})"
    return out


def initial_phrase(cond: Condition) -> str:
    """What moves the initial weights off the seed's draw (``""`` if nothing)."""
    axes = cond.axis_names
    parts = []
    if cond.offset or "offset" in axes:
        parts.append(
            f"input-weight offset, {cond.offset_mode} ({_settings(cond, ('offset',), axes)})"
        )
    if cond.init_scale != 1 or "init_scale" in axes:
        parts.append(f"initial weights scaled ({_settings(cond, ('init_scale',), axes)})")
    if cond.epsilon or "epsilon" in axes:
        parts.append(f"initial weight noise ({_settings(cond, ('epsilon',), axes)})")
    return "; ".join(parts)


def settings_phrase(cond: Condition) -> str:
    """The settings that the value of a field other than the optimizer and the schedule makes
    read: ``"seed_mode per_pixel (pixel_draws weights)"`` were pixel_draws declared with
    ``needs=("seed_mode", ("per_pixel",))``; ``""`` if none (as with today's declarations)."""
    parts = []
    for field in controlling(Condition):
        settings = _settings(cond, read_with(cond, field), cond.axis_names)
        if field not in OWN_PHRASE and settings:
            parts.append(f"{field} {getattr(cond, field)} ({settings})")
    return "; ".join(parts)


def network_phrase(cond: Condition) -> str:
    """The network and its data."""
    if cond.generic:  # the model's own settings follow in `settings_phrase`
        out = f"{cond.activation} {cond.model}"
        if cond.model == "mlp":
            out += f" of width {cond.width} and depth {cond.depth}"
            out += ", residual" if cond.residual else ""
        loss = {"cross_entropy": "cross-entropy", "mse": "mean squared error"}[cond.objective]
        size = f"the first {cond.n_data} of scikit-learn's 8×8 digits, {loss} over 10 classes"
        return f"{out}; {size} (seed {cond.seed}, {cond.draws} draws)"
    out = f"{cond.activation} network of width {cond.width} and depth {cond.depth}"
    out += ", residual" if cond.residual else ""
    size = (
        f"{cond.dataset_size} data point(s)"
        if cond.dataset_size is not None
        else f"data set size {cond.dataset_ratio:g} × parameters / {cond.target_dim}"
    )
    return f"{out}; {size} ({cond.input_distribution} inputs, seed {cond.seed}, {cond.draws} draws)"


def axis_phrase(cond: Condition, window: dict, which: str) -> str:
    """``"x: Learning rate (lr), log scale from 10^0 to 10^2.5, 24 pixels"``."""
    i = "xy".index(which)
    name = cond.axis_names[i]
    title = axis_labels(cond.to_dict())[f"{which}label"]
    scale = (cond.x_scale, cond.y_scale)[i]
    lo, hi, n = window[f"{which}_min"], window[f"{which}_max"], window[f"n{which}"]
    span = f"from 10^{lo:g} to 10^{hi:g}" if scale == "log" else f"from {lo:g} to {hi:g}"
    return f"{which}: {title} ({name}), {SCALE_WORDS[scale]} {span}, {n} pixels"


def describe(meta: dict) -> str:
    """One paragraph of plain text describing the condition of a grid's metadata."""
    cond = condition_of(meta)
    window = meta["window"]
    initial, settings = initial_phrase(cond), settings_phrase(cond)
    return (
        f"A {network_phrase(cond)}; {training_phrase(cond)}"
        + (f"; {initial}" if initial else "")
        + (f"; {settings}" if settings else "")
        + f". Axes: {axis_phrase(cond, window, 'x')}; {axis_phrase(cond, window, 'y')}."
    )
