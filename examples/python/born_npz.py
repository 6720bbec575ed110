#!/usr/bin/env python3
"""Exact log-probabilities of a tnlearn Born machine, from its export_npz archive,
with numpy alone (no tnlearn, no pickle).

    python3 born_npz.py MODEL.npz SAMPLES.npy [EXPECTED.npy]

MODEL.npz   written by MpsBornMachine::export_npz or TtnBornMachine::export_npz
SAMPLES.npy 2-D integer array, one configuration per row
EXPECTED.npy optional: ln p(x) per row as computed elsewhere (e.g. by tnlearn);
            the script then prints the largest difference and exits with status 1
            if it exceeds 1e-10.

The archive layout is documented in tnlearn's `born::export` module:
p(x) = psi(x)^2 / Z with Z = ||T_center||^2 (canonical form about `center`).
"""
import json
import sys

import numpy as np


def load(path):
    z = np.load(path)  # allow_pickle=False: plain arrays only
    meta = json.loads(bytes(z["meta"]).decode("utf-8"))
    return z, meta


def normalised(m, logs):
    """Divide each row by its norm and add the log of the norm to `logs`."""
    norm = np.linalg.norm(m, axis=1)
    with np.errstate(divide="ignore"):
        logs += np.log(norm)
    safe = np.where(norm > 0, norm, 1.0)
    return m / safe[:, None]


def mps_log_probs(z, meta, x):
    n, center = meta["num_sites"], meta["center"]
    sites = [z["site_%05d" % k] for k in range(n)]
    log_z = np.log(np.sum(sites[center] ** 2))
    v = np.ones((x.shape[0], 1))
    logs = np.zeros(x.shape[0])
    for k, a in enumerate(sites):
        # a: (D_left, d, D_right); each sample picks its matrix a[:, x_k, :]
        mats = a[:, x[:, k], :].transpose(1, 0, 2)
        v = normalised(np.einsum("bl,blr->br", v, mats), logs)
    return 2.0 * logs - log_z


def ttn_log_probs(z, meta, x):
    children = meta["children"]
    nodes = [z["node_%05d" % v] for v in range(len(children))]
    d = meta["num_states"]
    log_z = np.log(np.sum(nodes[meta["center"]] ** 2))
    logs = np.zeros(x.shape[0])

    def message(child):
        kind, index = child
        if kind == "site":
            return np.eye(d)[x[:, index]]  # one-hot rows
        return upward(index)

    def upward(v):
        left, right = (message(c) for c in children[v])
        # t: (D_parent, D_left, D_right); m[b, a] = sum_lr t[a, l, r] left[b, l] right[b, r]
        m = np.einsum("alr,bl,br->ba", nodes[v], left, right)
        return normalised(m, logs)

    root = upward(meta["root"])  # (n, 1): psi up to the accumulated scale
    return 2.0 * (logs + np.log(np.abs(root[:, 0]))) - log_z


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    z, meta = load(sys.argv[1])
    x = np.load(sys.argv[2]).astype(np.int64)
    model = meta["model"]
    if model == "mps_born_machine":
        lp = mps_log_probs(z, meta, x)
    elif model == "ttn_born_machine":
        lp = ttn_log_probs(z, meta, x)
    else:
        sys.exit("unknown model %r" % model)
    for v in lp:
        print("%.17g" % v)
    if len(sys.argv) == 4:
        expected = np.load(sys.argv[3])
        diff = float(np.max(np.abs(lp - expected)))
        print("max |ln p - expected| = %.3e" % diff)
        if not diff <= 1e-10:
            sys.exit(1)


if __name__ == "__main__":
    main()
