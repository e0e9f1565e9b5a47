"""Real networks on real data: the cnn and the transformer on scikit-learn's digits, trained by
the sweep's generic path, against plain optax loops written here with their own Equinox
models; tiles, refusals, and the parameter groups."""

import dataclasses
import re
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import yaml
from sklearn.datasets import load_digits

import trainability.numerics.jax64  # noqa: F401  (float64 before any array)
from trainability.cli import main
from trainability.core.condition import DEFAULT_ACTIVATIONS, Condition, ConditionError
from trainability.core.grid import load_grid, merge_tiles, save_grid
from trainability.core.window import LR_WINDOWS, Window
from trainability.train.measure import measure_trajectory
from trainability.train.sweep import Engine, sweep

CNN = Condition(
    model="cnn", data="digits", activation="relu", channels=3, dataset_size=64, steps=30
)
TRANSFORMER = Condition(
    model="transformer", data="digits", d_model=8, heads=2, dataset_size=48, steps=25
)
# converged ⇔ the mean of the last 20 ℓ_t/ℓ_0 < ½ for the cross-entropy (docs/real_networks.md)
CROSS_ENTROPY_RULE = 0.5


# --- the independent reference: Equinox modules and optax loops written here ---------------


def digits(n):
    """The first n digits, each pixel standardised over all 1797 images; one-hot labels."""
    data = load_digits()
    x = data.data.astype(np.float64)
    sd = x.std(0)
    x = (x - x.mean(0)) / np.where(sd > 0, sd, 1.0)
    return x[:n], np.eye(10)[data.target[:n]]


def phi(z):
    return jnp.tanh(np.sqrt(2.0) * z)


def relu(z):
    return np.sqrt(2.0) * jax.nn.relu(z)


class RefCNN(eqx.Module):
    c1: eqx.nn.Conv2d
    c2: eqx.nn.Conv2d
    d: eqx.nn.Linear

    def __init__(self, channels, key):
        k1, k2, k3 = jax.random.split(key, 3)
        self.c1 = eqx.nn.Conv2d(1, channels, 3, key=k1)
        self.c2 = eqx.nn.Conv2d(channels, channels, 3, key=k2)
        self.d = eqx.nn.Linear(16 * channels, 10, key=k3)

    def __call__(self, x):
        return self.d(relu(self.c2(relu(self.c1(x)))).ravel())


class RefTransformer(eqx.Module):
    rows: eqx.nn.Linear
    position: jax.Array
    attention: eqx.nn.MultiheadAttention
    ff: eqx.nn.MLP
    out: eqx.nn.Linear

    def __init__(self, d, heads, key):
        k1, k2, k3, k4 = jax.random.split(key, 4)
        ka, kb = jax.random.split(k1)
        self.rows = eqx.nn.Linear(8, d, key=ka)
        self.position = jax.random.normal(kb, (8, d)) / jnp.sqrt(d)
        self.attention = eqx.nn.MultiheadAttention(heads, d, key=k2)
        self.ff = eqx.nn.MLP(d, d, 2 * d, depth=1, activation=phi, key=k3)
        self.out = eqx.nn.Linear(d, 10, key=k4)

    def __call__(self, x):
        e = jax.vmap(self.rows)(x) + self.position
        e = e + self.attention(e, e, e)
        e = e + jax.vmap(self.ff)(e)
        return self.out(e.mean(0))


def reference_losses(model, x, y, rates, groups, optimizer, steps):
    """ℓ_0 … ℓ_{T−1} of one network trained by optax with one learning rate per group
    (``rates``: group → η; ``groups``: the module's top-level attribute → group)."""
    params, static = eqx.partition(model, eqx.is_array)
    with_paths, treedef = jax.tree_util.tree_flatten_with_path(params)
    leaves = [leaf for _, leaf in with_paths]
    labels = [groups[path[0].name] for path, _ in with_paths]
    tx = optax.multi_transform({g: optimizer(r) for g, r in rates.items()}, labels)

    def loss(leaves):
        net = eqx.combine(jax.tree_util.tree_unflatten(treedef, leaves), static)
        return jnp.mean(optax.softmax_cross_entropy(jax.vmap(net)(x), y))

    def body(carry, _):
        p, s = carry
        ell, g = jax.value_and_grad(loss)(p)
        u, s = tx.update(g, s, p)
        return (optax.apply_updates(p, u), s), ell

    _, losses = jax.lax.scan(body, (leaves, tx.init(leaves)), None, length=steps)
    return np.asarray(losses)


def pixel_rates(grid, picks):
    xs = np.broadcast_to(grid.x[None, :], grid.values.shape)
    ys = np.broadcast_to(grid.y[:, None], grid.values.shape)
    return [(r, c, xs[r, c], ys[r, c]) for r, c in picks]


def check_against_reference(grid, cond, model, groups, rates_of, optimizer, picks):
    x, y = digits(cond.dataset_size)
    shape = {"cnn": (-1, 1, 8, 8), "transformer": (-1, 8, 8)}[cond.model]
    x = jnp.asarray(x.reshape(shape))
    trained = []
    for r, c, lx, ly in pixel_rates(grid, picks):
        losses = reference_losses(model, x, y, rates_of(lx, ly), groups, optimizer, cond.steps)
        value, converged = measure_trajectory(losses, CROSS_ENTROPY_RULE)
        assert grid.converged[r, c] == converged, (r, c)
        np.testing.assert_allclose(grid.values[r, c], value, rtol=1e-7)
        trained.append(bool(converged))
    return trained


# --- the tests -------------------------------------------------------------------------------


def test_cnn_pixels_equal_a_plain_optax_loop():
    window = Window(-1, 1, 0, 3, nx=4, ny=4)
    grid = sweep(CNN, window)
    assert grid.converged.any() and not grid.converged.all()
    with jax.threefry_partitionable(False):  # draws legacy, the condition's default
        model = RefCNN(CNN.channels, jax.random.PRNGKey(CNN.seed))
    groups = {"c1": "conv1", "c2": "conv2", "d": "dense"}

    def rates(lx, ly):  # lr_vs_lr of the cnn: x = conv1, y = dense; conv2 the field lr
        return {"conv1": lx, "conv2": CNN.lr, "dense": ly}

    picks = [(0, 0), (1, 2), (2, 1), (3, 3), (0, 3), (3, 0)]
    trained = check_against_reference(grid, CNN, model, groups, rates, optax.sgd, picks)
    assert any(trained) and not all(trained)
    assert grid.meta["network"]["groups"]["conv2"] == {"parameters": 84, "lr": "field lr"}


def test_transformer_with_adam_equals_a_plain_optax_loop():
    """At small rates: with Adam at η_attention = 1 the two loops part from step 2 on, their
    difference (1e-16 at first, from another order of floating-point sums) growing tenfold
    per step, as chaotic training does; they agree to the last bits before that."""
    cond = TRANSFORMER.replace(
        optimizer="adam", phase_space="custom", x_axis="lr_attention", y_axis="lr_feedforward"
    )
    window = Window(-3, -1.5, -3, -1.5, nx=3, ny=3)  # larger rates: chaotic, see below
    grid = sweep(cond, window)
    with jax.threefry_partitionable(False):
        model = RefTransformer(cond.d_model, cond.heads, jax.random.PRNGKey(cond.seed))
    groups = {"rows": "embedding", "position": "embedding", "attention": "attention",
              "ff": "feedforward", "out": "readout"}  # fmt: skip

    def rates(lx, ly):
        return {"embedding": cond.lr, "attention": lx, "feedforward": ly, "readout": cond.lr}

    def adam(rate):
        return optax.adam(rate, b1=cond.beta1, b2=cond.beta2, eps=cond.adam_eps)

    picks = [(0, 0), (1, 2), (2, 2), (2, 0)]
    check_against_reference(grid, cond, model, groups, rates, adam, picks)


def test_the_cnn_chunk_formulation_is_the_module():
    from trainability.models.cnn import chunk_outputs
    from trainability.models.networks import init_problem, network

    net = network(CNN)
    X = jnp.asarray(init_problem(CNN).X)
    leaves = [np.stack([a * (1 + 0.1 * p) for p in range(3)]) for a in net.leaves]
    chunk = chunk_outputs([jnp.asarray(a) for a in leaves], X, CNN.activation)
    for p in range(3):
        one = net.apply(tuple(a[p] for a in leaves), X)
        np.testing.assert_allclose(chunk[p], one, rtol=0, atol=1e-13)


@pytest.mark.parametrize("cond", [CNN, TRANSFORMER, Condition(data="digits", width=8)],
                         ids=["cnn", "transformer", "mlp"])  # fmt: skip
def test_the_declared_groups_are_the_networks_parameters(cond):
    from trainability.models.networks import network

    net = network(cond)
    sizes = dict.fromkeys(cond.group_sizes, 0)
    groups = list(sizes) if cond.model != "mlp" else ["input", "output"]
    for leaf, unit in zip(net.leaves, net.units, strict=True):
        sizes[groups[unit]] += leaf.size
    assert sizes == cond.group_sizes


def test_tiles_equal_the_whole_byte_for_byte(tmp_path):
    cond = CNN.replace(optimizer="momentum", batch_size=16, steps=20)
    window = Window(-1, 3, -1, 3, nx=5, ny=4)
    whole = sweep(cond, window)
    assert (whole.diverged_at >= 0).any() or not whole.converged.all()
    tiles = []
    for i in range(2):
        for j in range(2):
            save_grid(tmp_path / f"t{i}{j}.npz", sweep(cond, window, tile=(i, j), tiles=(2, 2)))
            tiles.append(load_grid(tmp_path / f"t{i}{j}.npz"))
    merged = merge_tiles(tiles[::-1])
    threaded = sweep(cond, window, Engine(threads=2, block=7))
    for grid in (merged, threaded):
        for key in ("values", "converged", "diverged_at", "blowup_at", "x", "y"):
            assert getattr(grid, key).tobytes() == getattr(whole, key).tobytes(), key
    save_grid(tmp_path / "a.npz", whole)
    save_grid(tmp_path / "b.npz", sweep(cond, window))
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


@pytest.mark.parametrize(
    "flags, key",
    [
        (["--model", "cnn"], "data"),
        (["--model", "cnn", "--data", "digits", "--phase-space", "custom", "--x-axis",
          "lr_input", "--y-axis", "lr"], "x_axis"),
        (["--model", "transformer", "--data", "digits", "--phase-space", "custom", "--x-axis",
          "lr", "--y-axis", "lr_conv1"], "y_axis"),
        (["--model", "mlp", "--phase-space", "custom", "--x-axis", "lr_dense", "--y-axis",
          "lr"], "x_axis"),
        (["--model", "transformer", "--data", "digits", "--heads", "3"], "heads"),
        (["--model", "cnn", "--data", "digits", "--seed-mode", "per_pixel"], "seed_mode"),
        (["--model", "cnn", "--data", "digits", "--readout", "probe"], "readout"),
        (["--model", "cnn", "--data", "digits", "--phase-space", "offset_vs_lr"], "offset"),
        (["--model", "cnn", "--data", "digits", "--residual"], "residual"),
        (["--data", "digits", "--dataset-size", "2000"], "dataset_size"),
        (["--model", "cnn", "--data", "digits", "--dtype", "float64x2"], "model cnn"),
        (["--model", "cnn", "--data", "digits", "--engine", "autodiff"], "engine autodiff"),
        (["--model", "cnn", "--data", "digits", "--optimizer", "rmsprop"], "--optimizer"),
    ],
)  # fmt: skip
def test_a_bad_combination_is_refused_in_one_line_before_any_work(tmp_path, capsys, flags, key):
    out = tmp_path / "x.npz"
    argv = ["sweep", "--quiet", "--resolution", "2", "--steps", "2", "--out", str(out), *flags]
    with pytest.raises(SystemExit) if "--optimizer" in key else _returns(2):
        assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and key in err, err
    assert not out.exists()


class _returns:
    def __init__(self, code):
        self.code = code

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_float64x2_and_lyapunov_refuse_other_networks():
    from trainability.analysis.lyapunov import maximal_exponent
    from trainability.core.precision import unsupported

    assert unsupported(CNN, "fused", "doubledouble").startswith("model cnn on data digits")
    with pytest.raises(ValueError, match="float64x2 does not support model cnn"):
        sweep(CNN, Window.square((-1, 1, -1, 1), 2), Engine(dtype="float64x2"))
    with pytest.raises(ValueError, match="Lyapunov estimators compute model mlp"):
        maximal_exponent(CNN, Window.square((-1, 1, -1, 1), 2))
    with pytest.raises(ConditionError, match="model transformer needs data digits"):
        Condition(model="transformer")


def test_the_cli_sweeps_a_cnn_on_custom_axes(tmp_path):
    out = tmp_path / "cnn.npz"
    argv = ["sweep", "--quiet", "--model", "cnn", "--data", "digits", "--channels", "2"]
    argv += ["--dataset-size", "32", "--steps", "12", "--resolution", "3", "--out", str(out)]
    argv += ["--phase-space", "custom", "--x-axis", "lr_conv1", "--y-axis", "lr_dense"]
    assert main(argv) == 0
    grid = load_grid(out)
    meta = grid.meta["network"]
    assert (meta["model"], meta["data"], meta["loss"]) == ("cnn", "digits", "cross-entropy")
    assert meta["lr_sources"] == ["lr_conv1", "field lr", "lr_dense"]
    assert grid.values.shape == (3, 3) and np.isfinite(grid.values).all()


@pytest.mark.parametrize("model", ["cnn", "transformer"])
def test_the_cli_default_network_and_window_hold_both_phases(tmp_path, model):
    """``sweep --model M --data digits`` with nothing else named: the network's own
    nonlinearity (relu for the cnn: its tanh network with the cross-entropy trains everywhere)
    over its default window (`LR_WINDOWS`), which must hold trained pixels and blown-up ones
    (the tanh cnn's holds none that blow up, only a slow corner that 50 steps do not train)."""
    out = tmp_path / f"{model}.npz"
    argv = ["sweep", "--quiet", "--model", model, "--data", "digits", "--resolution", "5"]
    assert main([*argv, "--steps", "50", "--dataset-size", "40", "--out", str(out)]) == 0
    grid = load_grid(out)
    assert grid.meta["condition"]["activation"] == DEFAULT_ACTIVATIONS[model]
    assert grid.meta["window"]["x_min"] == LR_WINDOWS[model][0]
    assert grid.converged.any() and (grid.blowup_at >= 0).any()


def test_a_named_activation_wins_over_the_networks_own():
    assert DEFAULT_ACTIVATIONS == {"mlp": "tanh", "cnn": "relu", "transformer": "tanh"}
    assert Condition().activation == "tanh"  # the paper's
    assert Condition(model="cnn", data="digits").activation == "relu"
    assert Condition(model="cnn", data="digits", activation="tanh").activation == "tanh"
    cnn = Condition(model="cnn", data="digits")
    assert Condition(**dataclasses.asdict(cnn)) == cnn  # what metadata stores reads back


def test_the_paper_mlp_on_digits_equals_a_plain_loop():
    """The mlp on digits takes the generic path: its layers' rates from lr_vs_lr (even, odd),
    momentum from optax; here a loop of its own (mean-field layers, heavy ball by hand)."""
    from trainability.models.networks import init_problem

    cond = Condition(data="digits", width=8, dataset_size=40, steps=25, optimizer="momentum")
    window = Window(-1, 2, -1, 2, nx=3, ny=3)
    grid = sweep(cond, window)
    x, y = digits(cond.dataset_size)
    w0 = init_problem(cond).weights

    def loss(ws):
        h = jnp.tanh(np.sqrt(2) * (x @ ws[0]) / np.sqrt(64))
        out = (h @ ws[1]) / np.sqrt(8) / np.sqrt(8)
        return jnp.mean(optax.softmax_cross_entropy(out, y))

    for r, c, lx, ly in pixel_rates(grid, [(0, 0), (1, 1), (2, 2), (0, 2)]):
        ws, vs, losses = [jnp.asarray(w) for w in w0], [0.0, 0.0], []
        for _ in range(cond.steps):
            ell, g = jax.value_and_grad(loss)(ws)
            losses.append(float(ell))
            vs = [cond.momentum * v + gi for v, gi in zip(vs, g, strict=True)]
            ws = [w - lr * v for w, lr, v in zip(ws, (lx, ly), vs, strict=True)]
        value, converged = measure_trajectory(np.array(losses), CROSS_ENTROPY_RULE)
        assert grid.converged[r, c] == converged
        np.testing.assert_allclose(grid.values[r, c], value, rtol=1e-7)


# --- the classification rule, and the real networks in a study -----------------------------


def test_a_dead_cnn_at_chance_is_not_trained():
    """A relu cnn whose first layer took a huge step outputs the same logits for every image:
    its cross-entropy settles a hair below ℓ_0 (the paper's rule, tail mean below 1, would call
    it trained), finite and never blown up; the cross-entropy's rule (below ½) does not."""
    grid = sweep(CNN, Window(3, 4, -1, 0, nx=2, ny=2))  # η_conv1 10^3…10^4, η_dense 10^−1…1
    with jax.threefry_partitionable(False):
        model = RefCNN(CNN.channels, jax.random.PRNGKey(CNN.seed))
    x, y = digits(CNN.dataset_size)
    groups = {"c1": "conv1", "c2": "conv2", "d": "dense"}
    rates = {"conv1": grid.x[0], "conv2": CNN.lr, "dense": grid.y[0]}
    losses = reference_losses(model, jnp.asarray(x.reshape(-1, 1, 8, 8)), y, rates, groups,
                              optax.sgd, CNN.steps)  # fmt: skip
    tail = losses[-20:].mean() / losses[0]
    assert 0.9 < tail < 1.0, tail  # at chance, below ℓ_0
    assert measure_trajectory(losses)[1] and not measure_trajectory(losses, CROSS_ENTROPY_RULE)[1]
    assert not grid.converged[0, 0] and grid.blowup_at[0, 0] == -1 and grid.values[0, 0] > 0


def test_the_rule_follows_the_loss():
    from trainability.train.measure import threshold

    at_chance = np.r_[2.31, np.full(39, 2.29)]  # ℓ_0, then the class prior's entropy
    halved = np.r_[2.31, np.full(39, 1.10)]
    ce, mse = Condition(data="digits"), Condition(data="digits", loss="mse")
    assert threshold(ce) == 0.5 and threshold(mse) == threshold(Condition()) == 1.0
    assert not measure_trajectory(at_chance, threshold(ce))[1]
    assert measure_trajectory(halved, threshold(ce))[1]
    assert measure_trajectory(at_chance, threshold(mse))[1]  # the paper's rule, unchanged
    grid = sweep(CNN.replace(steps=3), Window.square((-1, 0, -1, 0), 2))
    assert grid.meta["network"]["converged"] == "mean of the last 20 normalised losses < 0.5"


REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def test_real_yaml_loads_and_plans(tmp_path):
    """config/real.yaml: every network zooms ≥ 4 decades at keyframes box counting can read,
    each with a 3-seed ensemble of its overview; the plan prices it within its budget and
    counts every job of Snakemake's dry run."""
    from conftest import snakemake

    from trainability.study.calibration import FALLBACK
    from trainability.study.config import load_study
    from trainability.study.plan import check, estimate, workloads

    config, study = load_study(yaml.safe_load((REPO / "config/real.yaml").read_text()), SCHEMA)
    zooms = {name: sc for name, sc in study.items() if sc.zoom is not None}
    assert set(zooms) == {"cnn_gd", "cnn_adam", "transformer_adam", "mlp_digits"}
    for sc in zooms.values():
        assert sc.condition.generic and sc.condition.data == "digits"
        assert (sc.zoom.levels - 1) * sc.zoom.doublings * np.log10(2) >= 4
        assert sc.zoom.resolution >= 101 and sc.zoom.target == "boundary"
    members = [sc.ensemble for sc in study.values() if sc.ensemble is not None]
    assert sorted(set(members)) == sorted(f"{name}_seeds" for name in zooms)
    assert all(members.count(e) == 3 for e in set(members))
    assert [zooms[n].condition.optimizer for n in ("cnn_gd", "cnn_adam")] == ["gd", "adam"]
    assert zooms["transformer_adam"].condition.axis_names == ("lr_attention", "lr_feedforward")
    assert zooms["cnn_gd"].condition.axis_names == ("lr_conv2", "lr_dense")
    plan = estimate(config, study, FALLBACK, "built-in fallback")
    check(plan, config)
    assert 0 < plan.total_seconds() < 2 * 3600  # at most a couple of core-hours
    dry = snakemake(tmp_path, "-n", "--cores", "2", configfile=REPO / "config" / "real.yaml")
    jobs = re.search(r"^total\s+(\d+)$", dry.stdout, re.M)
    assert int(jobs.group(1)) == sum(work.jobs for work in workloads(config, study))


@pytest.mark.parametrize(
    "change, key",
    [
        ({"model": "rnn"}, "model"),
        ({"data": "mnist"}, "data"),
        ({"optimizer": "sgd"}, "optimizer"),
        ({"loss": "hinge"}, "loss"),
        ({"phase_space": "custom", "x_axis": "lr_attention", "y_axis": "lr_dense"}, "x_axis"),
        ({"model": "transformer", "phase_space": "custom", "x_axis": "lr_embedding",
          "y_axis": "lr_conv1"}, "y_axis"),
        ({"data": "gaussian"}, "data"),
        ({"engine": "autodiff"}, "engine.name"),
        ({"fractal_end": True}, "fractal_end.condition"),
        ({"followup": True}, "followup.base"),
    ],
)  # fmt: skip
def test_a_bad_real_network_field_is_refused_before_any_job(change, key):
    from trainability.study.config import ConfigError, load_study

    entry = {"model": "cnn", "data": "digits", "steps": 2, "resolution": 4}
    config = {"conditions": {"x": entry}}
    if change.pop("engine", None):
        config["engine"] = {"name": "autodiff"}
    if change.pop("fractal_end", None):
        config["fractal_end"] = {"condition": "x", "steps": [10], "first": 1, "depth": 2}
    if change.pop("followup", None):
        config["followup"] = {"base": {"model": "cnn", "data": "digits"}}
    entry.update(change)
    with pytest.raises(ConfigError) as err:
        load_study(config, SCHEMA)
    message = str(err.value)
    assert len(message.splitlines()) == 1 and key in message, message
