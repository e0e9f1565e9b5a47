"""The workflow on SLURM, on a throw-away single-node cluster (tests/slurm/cluster.sh).

Needs Debian's slurm-wlm and munge, and root (the daemons run as the current user). Outside CI
the tests skip when SLURM is not installed; in CI (``CI`` set) they fail instead, so that a
missing install step cannot pass as green. Every Snakemake run goes through the profiles in
profiles/ (slurm-local, stacked after slurm-gpu for the GPU test).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import imageio.v3 as iio
import pytest
import yaml
from conftest import REPO, snakemake_command

from trainability.core.grid import load_grid

CLUSTER = REPO / "tests" / "slurm" / "cluster.sh"
TEST_CONFIG = yaml.safe_load((REPO / "config" / "test.yaml").read_text())
LOCAL_PROFILE = yaml.safe_load((REPO / "profiles" / "slurm-local" / "config.yaml").read_text())
RUN_LIMIT_S = 480  # seconds; no single Snakemake run of these tests comes near this


@dataclass
class Cluster:
    env: dict  # os.environ plus SLURM_CONF and the PATH of the cluster's client commands
    state: Path

    def run(self, *cmd, check=True):
        result = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=60)
        if check and result.returncode != 0:
            raise AssertionError(f"{cmd} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def jobs(self, run_id):
        """`scontrol show job` of every job (array tasks one by one) of a Snakemake run, as
        dicts; finished jobs stay listed for MinJobAge seconds (cluster.sh)."""
        records = []
        for line in self.run("scontrol", "-d", "-o", "show", "job").splitlines():
            record = dict(re.findall(r"(\S+?)=(\S*)", line))
            if record.get("JobName") == run_id:
                records.append(record)
        return list({r["JobId"]: r for r in records}.values())


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    """A single-node SLURM cluster for the session: started here, stopped at the end."""
    missing = [c for c in ("slurmctld", "slurmd", "sbatch", "munged") if not shutil.which(c)]
    if missing:
        message = f"SLURM is not installed ({', '.join(missing)} missing): " + (
            "apt-get install -y slurm-wlm munge"
        )
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must run the SLURM tests; .ci/run installs them)")
        pytest.skip(message)
    state = tmp_path_factory.mktemp("slurm")
    env = {**os.environ, "SLURM_STATE_DIR": str(state), "PYTHONUNBUFFERED": "1"}
    started = subprocess.run(
        [str(CLUSTER), "start"], env=env, capture_output=True, text=True, timeout=120
    )
    if started.returncode != 0:
        raise AssertionError(f"cluster.sh start failed:\n{started.stderr}")
    for line in started.stdout.splitlines():  # export NAME=VALUE, VALUE may end in :$PATH
        name, value = line.removeprefix("export ").split("=", 1)
        env[name] = value.replace("$PATH", os.environ["PATH"])
    try:
        yield Cluster(env=env, state=state)
    finally:
        subprocess.run([str(CLUSTER), "stop"], env=env, capture_output=True, timeout=120)


def _processes_mentioning(text: str) -> dict[int, str]:
    """Live processes whose command line contains ``text`` (this one excepted): pid → cmdline."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # it ended meanwhile
            continue
        if text in cmdline:
            found[int(entry.name)] = cmdline.strip()
    return found


@pytest.fixture(autouse=True)
def no_leftover_processes(tmp_path):
    """After each test, no process of its run is left behind: every command these tests start
    names the test's own folder, so one still running 30 s later is an orphan. It is killed,
    and the test fails naming it."""
    yield
    deadline = time.time() + 30
    while (left := _processes_mentioning(str(tmp_path))) and time.time() < deadline:
        time.sleep(0.5)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert not left, f"processes left behind: {left}"


def snakemake_cmd(workdir, configfile, *args):
    # SIGTERM makes Snakemake wait for its jobs; SIGKILL 10 s later
    return ["timeout", "-k", "10", str(RUN_LIMIT_S),
            *snakemake_command(workdir, *args, configfile=configfile)]  # fmt: skip


def run_id_of(output):
    """The SLURM job name Snakemake gives every job of one run."""
    match = re.search(r"SLURM run ID: (\S+)", output)
    assert match, output[-3000:]
    return match.group(1)


def run_on_slurm(cluster, workdir, *args, configfile=REPO / "config" / "test.yaml"):
    """Run the workflow through the profiles given in args; returns (output, run id)."""
    result = subprocess.run(
        snakemake_cmd(workdir, configfile, *args),
        env=cluster.env,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        if "SLURM run ID" in output:
            cluster.run("scancel", "--name", run_id_of(output), check=False)
        raise AssertionError(f"snakemake on SLURM failed ({result.returncode}):\n{output[-4000:]}")
    return output, run_id_of(output)


def small_config(tmp_path, name, **defaults):
    """config/test.yaml cut to its first condition, with defaults changed."""
    config = json.loads(json.dumps(TEST_CONFIG))
    config["conditions"] = {"tanh_fullbatch": config["conditions"]["tanh_fullbatch"]}
    config["defaults"].update(defaults)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config))
    return path


# The training path of two conditions of the test study (minibatch tanh; Adam over a custom,
# linear axis): every tile, merge, heatmap and dimension. Every other rule goes through the same
# submission path and is run locally by tests/test_workflow.py; each SLURM job costs seconds of
# scheduling, and the whole test study through SLURM took 5 min of CI's 20.
CONDITIONS = ["tanh_minibatch", "adam_beta2"]
STUDY_TARGETS = [
    f"results/{name}/{leaf}" for name in CONDITIONS for leaf in ("overview.png", "dimension.csv")
]


@pytest.fixture(scope="module")
def slurm_study(slurm_cluster, tmp_path_factory):
    """The test study run once through profiles/slurm-local; tests read its outputs and jobs."""
    workdir = tmp_path_factory.mktemp("slurm_study")
    start = time.perf_counter()
    _, run_id = run_on_slurm(
        slurm_cluster, workdir, "--profile", "profiles/slurm-local", *STUDY_TARGETS
    )
    return workdir, run_id, time.perf_counter() - start


def test_study_on_slurm_equals_the_local_run(slurm_study, test_study):
    """Same config, same bytes: every grid and tile, the dimension tables; PNGs pixel for
    pixel (their metadata may carry versions and dates)."""
    slurm, _, seconds = slurm_study
    print(f"test study through SLURM: {seconds:.1f} s")
    made = sorted(
        p.relative_to(slurm)
        for p in (slurm / "results").rglob("*")
        if p.suffix in {".npz", ".csv", ".md", ".png"} and p.parts[len(slurm.parts) + 1] != "logs"
    )
    assert {Path(t) for t in STUDY_TARGETS} <= set(made)
    assert sum(p.suffix == ".npz" for p in made) >= 3 * len(CONDITIONS)
    for rel in made:
        mine, local = slurm / rel, test_study / rel
        if rel.suffix == ".npz":
            a, b = load_grid(mine), load_grid(local)
            assert a.values.tobytes() == b.values.tobytes(), rel
            assert a.converged.tobytes() == b.converged.tobytes(), rel
            assert a.diverged_at.tobytes() == b.diverged_at.tobytes(), rel
        elif rel.suffix == ".png":
            assert (iio.imread(mine) == iio.imread(local)).all(), rel
        else:
            assert mine.read_bytes() == local.read_bytes(), rel


def test_profile_resources_reach_slurm(slurm_cluster, slurm_study):
    """SLURM got the slurm-local profile's default-resources (not the workflow profile's),
    and every tile was a job of its own."""
    _, run_id, _ = slurm_study
    jobs = slurm_cluster.jobs(run_id)
    assert jobs and all(j["JobState"] == "COMPLETED" for j in jobs)
    resources = LOCAL_PROFILE["default-resources"]
    minutes = eval(str(resources["runtime"]), {"attempt": 1})  # our own profile's expression
    mem_mb = eval(str(resources["mem_mb"]), {"attempt": 1})
    for job in jobs:
        assert job["Partition"] == resources["slurm_partition"]
        assert job["TimeLimit"] == f"00:{minutes:02d}:00", (
            f"TimeLimit {job['TimeLimit']}: a default-resources key in profiles/default (the "
            "workflow profile) replaces the cluster profile's whole (docs/cluster.md)"
        )
        assert job["MinMemoryNode"] == f"{mem_mb}M", job["MinMemoryNode"]
    tiles = [j for j in jobs if j["Comment"].startswith("rule_sweep_tile_")]
    n_tiles = len(list((slurm_study[0] / "results").glob("*/tiles/**/*.npz")))
    assert len({j["Comment"] for j in tiles}) == len(tiles) == n_tiles > 0


def test_gpu_profile_schedules_the_sweep_on_the_gpu(slurm_cluster, tmp_path):
    """profiles/slurm-gpu (stacked under slurm-local) asks for a GPU for every tile: SLURM
    allocates the node's (fake) GPU to each, the job sees it, and two tiles never share it."""
    config = small_config(tmp_path, "gpu.yaml")
    targets = [f"results/tanh_fullbatch/tiles/overview/{i}_0.npz" for i in range(2)]
    output, run_id = run_on_slurm(
        slurm_cluster,
        tmp_path / "work",
        "--profile",
        "profiles/slurm-gpu",
        "--profile",
        "profiles/slurm-local",
        "--verbose",  # the jobstep executor logs its environment at debug level
        *targets,
        configfile=config,
    )
    jobs = slurm_cluster.jobs(run_id)
    assert len(jobs) == 2
    for job in jobs:
        assert job["JobState"] == "COMPLETED"
        assert job["Comment"].startswith("rule_sweep_tile")
        assert "gpu:1" in job.get("TresPerJob", "") + job.get("TresPerNode", "")  # asked
        assert job["JOB_GRES"] == "gpu:fake:1"  # and was given the node's GPU
    first, second = sorted(jobs, key=lambda j: j["StartTime"])
    assert second["StartTime"] >= first["EndTime"], "one GPU, yet two tiles ran at once"
    logs = list((tmp_path / "work" / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert len(logs) == 2
    for log in logs:
        text = log.read_text()
        assert "'CUDA_VISIBLE_DEVICES': '0'" in text, log
        assert "'SLURM_JOB_GPUS': '0'" in text, log
    for target in targets:
        load_grid(tmp_path / "work" / target)


def test_killed_slurm_run_resumes_without_redoing_finished_tiles(slurm_cluster, tmp_path):
    """SIGKILL Snakemake once it has seen a tile finish (its SLURM jobs go on, and are then
    cancelled); after --unlock the rerun keeps every tile Snakemake had recorded, recomputes the
    others, and merges the grid the library computes whole."""
    # 3 waves of 2 on the 2-CPU node. The executor polls 1, 12, 33, 64... s after submitting
    # (10 s more after each poll that finds nothing finished): whatever a wave takes past 4 s,
    # Snakemake sees a tile finish before the last wave is done.
    tiles_n = 6
    config = small_config(tmp_path, "slow.yaml", steps=150, resolution=36, tiles=[tiles_n, 1])
    work = tmp_path / "work"
    log_path = tmp_path / "killed.log"
    target = "results/tanh_fullbatch/overview.npz"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            snakemake_cmd(work, config, "--profile", "profiles/slurm-local", target),
            env=slurm_cluster.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )
    finished = []
    deadline = time.time() + 240
    try:
        while time.time() < deadline and proc.poll() is None:
            finished = tile_jobs_finished(log_path.read_text())
            if finished:
                break
            time.sleep(0.2)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:  # it had ended (and failed) on its own
            pass
        proc.wait()
    output = log_path.read_text()
    assert finished, f"no tile finished before the deadline:\n{output[-3000:]}"
    # read again after the kill: a tile may have finished between the last read and the kill
    finished = tile_jobs_finished(output)
    slurm_cluster.run("scancel", "--name", run_id_of(output))
    for _ in range(100):
        if not slurm_cluster.run("squeue", "-h", "--name", run_id_of(output), "-o", "%i").strip():
            break
        time.sleep(0.2)
    tiles = work / "results" / "tanh_fullbatch" / "tiles" / "overview"
    assert len(finished) < tiles_n, "the kill should land before the last tile"
    done = {p: p.stat().st_mtime_ns for p in tiles.glob("*.npz")}
    for tile in done:
        load_grid(tile)  # every file under a final name is complete
    recorded = {work / rel for rel in finished}
    assert recorded <= set(done)

    unlock = subprocess.run(
        snakemake_cmd(work, config, "--unlock"), env=slurm_cluster.env, capture_output=True
    )
    assert unlock.returncode == 0, unlock.stderr
    run_on_slurm(
        slurm_cluster, work, "--profile", "profiles/slurm-local", target, configfile=config
    )
    for tile in recorded:
        assert tile.stat().st_mtime_ns == done[tile], f"{tile.name} was recomputed"
    for tile in set(done) - recorded:  # written, but not seen finished: recomputed
        assert tile.stat().st_mtime_ns != done[tile], f"{tile.name} was trusted"
    assert len(list(tiles.glob("*.npz"))) == tiles_n

    from trainability.core.condition import Condition
    from trainability.core.window import Window
    from trainability.train.sweep import sweep

    d = yaml.safe_load(config.read_text())["defaults"]
    whole = sweep(
        Condition(activation="tanh", width=d["width"], steps=d["steps"]),
        Window.square(d["window"], d["resolution"]),
    )
    assert load_grid(work / target).values.tobytes() == whole.values.tobytes()
    assert not list(work.rglob(".*tmp-*"))


def tile_jobs_finished(output):
    """Output files of the sweep_tile jobs that Snakemake reported finished in a run's log."""
    outputs = dict(
        (jobid, path)
        for path, jobid in re.findall(
            r"rule sweep_tile:\n\s+output: (\S+)\n(?:\s+\w+: .*\n)*?\s+jobid: (\d+)", output
        )
    )
    return [outputs[j] for j in re.findall(r"Finished jobid: (\d+) \(Rule: sweep_tile\)", output)]


def test_gpu_profile_is_the_slurm_profile_plus_the_gpu_request():
    """profiles/slurm-gpu repeats profiles/slurm key for key and only adds set-resources."""
    cpu = yaml.safe_load((REPO / "profiles" / "slurm" / "config.yaml").read_text())
    gpu = yaml.safe_load((REPO / "profiles" / "slurm-gpu" / "config.yaml").read_text())
    assert {k: v for k, v in gpu.items() if k != "set-resources"} == cpu
    assert gpu["set-resources"]["sweep_tile"]["gpu"] == 1
    assert "set-resources" not in LOCAL_PROFILE, "slurm-local must not hide slurm-gpu's request"


def test_cluster_status_reports_a_running_cluster(slurm_cluster):
    env = {**slurm_cluster.env, "SLURM_STATE_DIR": str(slurm_cluster.state)}
    status = subprocess.run(
        [str(CLUSTER), "status"], env=env, capture_output=True, text=True, timeout=60
    )
    assert status.returncode == 0, status.stdout + status.stderr
    assert re.search(r"idle|mix|alloc", status.stdout)
    assert f" {len(os.sched_getaffinity(0))} " in status.stdout  # the node has this machine's CPUs
    assert "gpu:fake:1" in status.stdout
