#!/usr/bin/env python3
"""Reference timings for `benches/contraction.rs`: the same contractions with
numpy.einsum (optimize=True), opt_einsum.contract and, where the contraction is a
(batched) matrix product, the best plain numpy expression (matmul / tensordot).

Run it in the same session as `cargo bench --bench contraction`, with the same
thread count (e.g. OPENBLAS_NUM_THREADS=1 next to RAYON_NUM_THREADS=1).
Prints a table: median time per call and GFLOP/s (2 x multiply-adds / time), the
multiply-add counts being those of the crate's plans.
"""
import os
import sys
import time

import numpy as np

try:
    import opt_einsum
except ImportError:  # pragma: no cover
    opt_einsum = None


# TIMER=cpu: this thread's CPU time (time.thread_time), robust to other processes
# sharing the cores; meaningful single-threaded only (OPENBLAS_NUM_THREADS=1).
CLOCK = time.thread_time if os.environ.get("TIMER") == "cpu" else time.perf_counter


def median_time(f, budget=0.6):
    f()
    t0 = time.perf_counter()
    f()
    one = max(time.perf_counter() - t0, 1e-9)
    per = max(1, int(budget / 15 / one))
    samples = []
    start = time.perf_counter()
    while len(samples) < 5 or (time.perf_counter() - start < budget and len(samples) < 15):
        t = CLOCK()
        for _ in range(per):
            f()
        samples.append((CLOCK() - t) / per)
    samples.sort()
    return samples[len(samples) // 2]


def cases():
    """(name, spec, shapes, multiply-adds, best numpy expression or None)."""
    v = []
    for n in (2, 64, 256, 1024):
        v.append((f"matmul ij,jk->ik n={n}", "ij,jk->ik", [(n, n), (n, n)], n**3,
                  lambda a, b: a @ b))
    v.append(("permuted aib,bjc->ajic (32,128,32)", "aib,bjc->ajic",
              [(32, 128, 32), (32, 128, 32)], 32 * 128 * 32 * 128 * 32,
              lambda a, b: np.tensordot(a, b, axes=([2], [0])).transpose(0, 2, 1, 3)
              .copy()))
    v.append(("batch-leading bij,bjk->bik (128,128)", "bij,bjk->bik",
              [(128, 128, 128), (128, 128, 128)], 128**4, lambda a, b: a @ b))
    v.append(("batch-trailing ijb,jkb->ikb (128,128)", "ijb,jkb->ikb",
              [(128, 128, 128), (128, 128, 128)], 128**4,
              lambda a, b: np.moveaxis(np.moveaxis(a, 2, 0) @ np.moveaxis(b, 2, 0), 0, 2)
              .copy()))
    for d in (128, 256):
        v.append((f"mps env ab,asc,bsd->cd D={d}", "ab,asc,bsd->cd",
                  [(d, d), (d, 2, d), (d, 2, d)], 4 * d**3, None))
    v.append(("two-site asb,btc->astc D=256", "asb,btc->astc",
              [(256, 2, 256), (256, 2, 256)], 256**3 * 4, None))
    v.append(("batched outer bi,bj->ij (8000,100)", "bi,bj->ij",
              [(8000, 100), (8000, 100)], 8000 * 100 * 100, lambda a, b: a.T @ b))
    v.append(("tree msg bl,br,alr->ba (4000,64)", "bl,br,alr->ba",
              [(4000, 64), (4000, 64), (64, 64, 64)], 4000 * 64**3 + 4000 * 64**2,
              None))
    return v


def main():
    rng = np.random.default_rng(42)
    only = sys.argv[1:]
    print(f"numpy {np.__version__}" + (f", opt_einsum {opt_einsum.__version__}"
                                        if opt_einsum else ", no opt_einsum"))
    try:
        from threadpoolctl import threadpool_info
        for p in threadpool_info():
            print(f"  {p.get('internal_api')}: {p.get('architecture')}, "
                  f"{p.get('num_threads')} threads")
    except ImportError:
        pass
    print(f"\ntimer: {'thread CPU' if CLOCK is time.thread_time else 'wall'}; "
          "each column: us per call, GFLOP/s")
    print(f"{'case':<40} {'np.einsum(optimize)':>17} {'opt_einsum':>17} {'numpy best':>17}")
    for name, spec, shapes, macs, best in cases():
        if only and not any(o in name for o in only):
            continue
        ops = [rng.standard_normal(s) for s in shapes]
        cols = []
        fns = [lambda: np.einsum(spec, *ops, optimize=True)]
        fns.append((lambda: opt_einsum.contract(spec, *ops)) if opt_einsum else None)
        fns.append((lambda: best(*ops)) if best else None)
        for f in fns:
            if f is None:
                cols.append(f"{'-':>17}")
                continue
            t = median_time(f)
            cols.append(f"{t * 1e6:>10.1f} {2 * macs / t / 1e9:>6.1f}")
        print(f"{name:<40} " + " ".join(cols))


if __name__ == "__main__":
    main()
