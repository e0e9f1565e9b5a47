"""Sentences that describe a computed condition, generated from its grid's metadata.

Every word the report says about one condition (network, data, optimizer and its settings,
learning-rate schedule, batch, steps, the two axes with their scales and ranges, pixels) is
built here from the metadata the sweep wrote into the condition's grid
(`trainability.train.sweep.sweep_meta`): the `Condition` it was computed with and its `Window`.
Nothing is assumed about a condition, so an Adam condition on a linear axis is described as
one.
"""

from __future__ import annotations

from trainability.core.condition import FIXED_LR, FIXED_LR_HIDDEN, Condition
from trainability.figures.heatmap import axis_labels

OPTIMIZER_NAMES = {
    "gd": "gradient descent",
    "momentum": "heavy-ball momentum",
    "nesterov": "Nesterov momentum",
    "adam": "Adam",
}
# the fields each optimizer and each schedule reads (besides the learning rates)
OPTIMIZER_SETTINGS = {
    "gd": (),
    "momentum": ("momentum",),
    "nesterov": ("momentum",),
    "adam": ("beta1", "beta2", "adam_eps"),
}
SCHEDULE_SETTINGS = {
    "constant": (),
    "warmup": ("warmup_steps",),
    "cosine": ("final_lr_fraction",),
    "step": ("decay_every", "decay_factor"),
}
SCALE_WORDS = {"log": "log scale", "linear": "linear scale"}


def condition_of(meta: dict) -> Condition:
    """The `Condition` a grid was computed with, from its metadata."""
    return Condition(**meta["condition"])


def _settings(cond: Condition, names, axes) -> str:
    """``"beta1 0.9, adam_eps 1e-08; beta2 on the y axis"`` (or ``""``)."""
    fixed = [f"{n} {getattr(cond, n):g}" for n in names if n not in axes]
    swept = [f"{n} on the {'xy'[axes.index(n)]} axis" for n in names if n in axes]
    return "; ".join(part for part in (", ".join(fixed), ", ".join(swept)) if part)


def optimizer_phrase(cond: Condition) -> str:
    """``"Adam (beta1 0.9, adam_eps 1e-08; beta2 on the y axis)"``, ``"gradient descent"``."""
    name = OPTIMIZER_NAMES[cond.optimizer]
    settings = _settings(cond, OPTIMIZER_SETTINGS[cond.optimizer], cond.axis_names)
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
    if cond.schedule != "constant":
        settings = _settings(cond, SCHEDULE_SETTINGS[cond.schedule], axes)
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


def network_phrase(cond: Condition) -> str:
    """The network and its data."""
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
    initial = initial_phrase(cond)
    return (
        f"A {network_phrase(cond)}; {training_phrase(cond)}"
        + (f"; {initial}" if initial else "")
        + f". Axes: {axis_phrase(cond, window, 'x')}; {axis_phrase(cond, window, 'y')}."
    )
