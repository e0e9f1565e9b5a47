"""What one deep-window pixel-step costs on this machine, part by part (CPU time, one core).

The step's two large contractions for a chunk of P = 128 pixels of the paper's network (N = 272
data points, width D = 16): X·W₀ (forward) and Xᵀ·∂Z (first-layer gradient), each as the batched
einsum the engine compiles and as one large GEMM (all pixels' weights side by side: the other
formulation one could choose), and the tanh of the pre-activations. docs/speed.md reads the
figures as a ceiling on pixel-steps per second.

    taskset -c 0 python benchmarks/products.py
"""

import time

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)
P, N, D = 128, 272, 16


def forward_gemm(x, w):
    wide = w.transpose(1, 0, 2).reshape(D, P * D)  # (D, P·D): every pixel's W₀ side by side
    return (x @ wide).reshape(N, P, D).transpose(1, 0, 2)


def gradient_gemm(x, g):
    wide = g.transpose(1, 0, 2).reshape(N, P * D)
    return (x.T @ wide).reshape(D, P, D).transpose(1, 0, 2)


def main() -> None:
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((N, D)))
    w = jnp.asarray(rng.standard_normal((P, D, D)))
    g = jnp.asarray(rng.standard_normal((P, N, D)))
    parts = {
        "forward, batched einsum": (jax.jit(lambda x, w: jnp.einsum("nd,pde->pne", x, w)), (x, w)),
        "forward, one GEMM": (jax.jit(forward_gemm), (x, w)),
        "gradient, batched einsum": (jax.jit(lambda x, g: jnp.einsum("nd,pne->pde", x, g)), (x, g)),
        "gradient, one GEMM": (jax.jit(gradient_gemm), (x, g)),
        "tanh of P·N·D values": (jax.jit(jnp.tanh), (g,)),
    }
    best = dict.fromkeys(parts, float("inf"))
    for f, args in parts.values():
        f(*args).block_until_ready()  # compile outside the timing
    for _ in range(5):  # best of 5, alternating
        for name, (f, args) in parts.items():
            start = time.process_time()
            for _ in range(50):
                f(*args).block_until_ready()
            best[name] = min(best[name], (time.process_time() - start) / 50)
    for name, seconds in best.items():
        per_pixel = seconds / P * 1e6
        print(f"{name:26s} {seconds * 1e3:7.3f} ms CPU per chunk, {per_pixel:6.2f} µs/pixel")
    fmas = N * D * D
    for name in ("forward, batched einsum", "gradient, batched einsum"):
        print(f"{name}: {fmas * P / best[name] / 1e9:.1f} GFMA/s")


if __name__ == "__main__":
    main()
