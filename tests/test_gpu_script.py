"""benchmarks/gpu.sh and gpu.py without a GPU: one clear line and a non-zero exit, at once."""

import os
import subprocess
import sys

from conftest import REPO


def test_gpu_script_stops_with_one_line_without_a_gpu(tmp_path):
    fake = tmp_path / "nvidia-smi"  # a driver that finds no device
    fake.write_text("#!/bin/sh\necho 'No devices were found'\nexit 6\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", str(REPO / "benchmarks" / "gpu.sh")], env=env, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "benchmarks/gpu.sh: no CUDA GPU on this machine (nvidia-smi lists none); nothing run"
    ]


def test_gpu_benchmark_refuses_a_cpu_backend():
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    cmd = [sys.executable, str(REPO / "benchmarks" / "gpu.py")]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stdout.splitlines() == [
        "benchmarks/gpu.py: JAX sees no GPU (backend 'cpu'); nothing measured"
    ]
