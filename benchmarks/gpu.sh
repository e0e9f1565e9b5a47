#!/usr/bin/env bash
# The sweep engine on a CUDA GPU, in under 5 minutes: installs the CUDA build of the pinned JAX
# (into $GPU_VENV, default .venv-gpu, unless $GPU_PYTHON already runs a JAX that sees the GPU),
# then runs benchmarks/gpu.py (chunk picked by a short sweep; pixel-steps/s of the overview and
# the deep window at 1024² × 1000 steps; label agreement with the CPU engine). Arguments go to
# gpu.py. Without a CUDA GPU it stops at once with one line and exit status 2.
#
#     bash benchmarks/gpu.sh [--resolution 1024] [--steps 1000]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
    echo "benchmarks/gpu.sh: no CUDA GPU on this machine (nvidia-smi lists none); nothing run" >&2
    exit 2
fi
nvidia-smi -L

sees_gpu() { "$1" -c 'import jax, sys; sys.exit(jax.default_backend() != "gpu")' 2>/dev/null; }
PY="${GPU_PYTHON:-}"
if [ -z "$PY" ] || ! sees_gpu "$PY"; then
    VENV="${GPU_VENV:-.venv-gpu}"
    BASE="${PYTHON:-python3}"
    # the pins of pyproject.toml for what a sweep imports; jax with its CUDA 12 plugin
    pins=$("$BASE" - <<'PY'
import re, tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
pin = {re.split(r"[\[=<>]", d)[0]: d for d in deps}
print(pin["jax"].replace("jax==", "jax[cuda12]=="), *(pin[k] for k in ("numpy", "pyyaml", "jsonschema", "tqdm")))
PY
)
    echo "installing into $VENV: $pins"
    [ -x "$VENV/bin/python" ] || "$BASE" -m venv "$VENV"
    # shellcheck disable=SC2086
    "$VENV/bin/python" -m pip install --quiet $pins
    PY="$VENV/bin/python"
    if ! sees_gpu "$PY"; then
        echo "benchmarks/gpu.sh: the CUDA build of JAX was installed but sees no GPU" >&2
        exit 3
    fi
fi
left=$(( ${GPU_BUDGET_S:-300} - SECONDS ))  # the whole run, installation included, within 5 min
exec timeout "$left" "$PY" benchmarks/gpu.py "$@"
