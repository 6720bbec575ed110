#!/usr/bin/env python3
"""Exact marginals of a tnlearn CORA model, from its export_npz archive, with numpy
alone (no tnlearn, no pickle).

    python3 cora_npz.py MODEL.npz SAMPLES.npy REGION.npy [EXPECTED.npy]

MODEL.npz    written by Cora::export_npz
SAMPLES.npy  2-D integer array, one configuration of all N data sites per row
REGION.npy   1-D integer array: the data sites A whose marginal is wanted
EXPECTED.npy optional: ln p(x_A) per row as computed elsewhere (e.g. by tnlearn's
             Cora::log_marginal); the script then prints the largest difference
             and exits with status 1 if it exceeds 1e-10.

Prints ln p(x_A) for every row. The distribution is computed by running CORA's
generative process on dense probability tables (top distribution, then per level
every refine map, then every box map), which is exact and independent of
tnlearn's causal-cone contraction, but holds a table over all sites of a level:
for small models only (at most 2^22 entries). The archive layout is documented in
docs/cora.md and in tnlearn's `cora::export` module.
"""
import json
import sys

import numpy as np

MAX_ENTRIES = 1 << 22


def load(path):
    z = np.load(path)  # allow_pickle=False: plain arrays only
    meta = json.loads(bytes(z["meta"]).decode("utf-8"))
    if meta.get("model") != "cora":
        sys.exit("not a CORA archive: model %r" % meta.get("model"))
    return z, meta


def joint(z, meta):
    """The full distribution over the data sites: an array with one axis per site."""
    chi = meta["chi_per_level"]
    dims = meta["dims"]
    big_j = len(chi) - 1
    n_top = dims[big_j][0] * dims[big_j][1]
    p = z["top"][:, 0].reshape((chi[big_j],) * n_top)
    for j in range(big_j, 0, -1):
        detail = meta["levels_detail"][j - 1]
        fine, coarse = chi[j - 1], chi[j]
        n_fine = dims[j - 1][0] * dims[j - 1][1]
        if fine ** n_fine > MAX_ENTRIES:
            sys.exit("level %d has %d^%d configurations: too large for this script"
                     % (j - 1, fine, n_fine))
        # Labels: coarse site c of Gamma_j is c, fine site s of Gamma_{j-1} is n + s.
        n = p.ndim
        operands = [p, list(range(n))]
        for c, block in enumerate(detail["blocks"]):
            r = z["refine_L%d_%05d" % (j, detail["refine_index"][c])]
            operands += [r.reshape((fine,) * len(block) + (coarse,)),
                         [n + s for s in block] + [c]]
        p = np.einsum(*operands, list(range(n, n + n_fine)))
        # Box maps: every group of fine sites replaced by a draw given the group.
        for g, group in enumerate(detail["groups"]):
            b = z["box_L%d_%05d" % (j, detail["box_index"][g])]
            k = len(group)
            b = b.reshape((fine,) * (2 * k))
            new = [n_fine + t for t in range(k)]
            out = list(range(n_fine))
            for t, s in enumerate(group):
                out[s] = new[t]
            p = np.einsum(p, list(range(n_fine)), b, new + list(group), out)
    return p


def log_marginals(z, meta, x, region):
    p = joint(z, meta)
    others = tuple(s for s in range(p.ndim) if s not in set(region))
    m = p.sum(axis=others)  # axes of the region in increasing site order
    order = sorted(range(len(region)), key=lambda i: region[i])
    # m's axis a is the site sorted(region)[a]; index it with the rows' values.
    idx = tuple(x[:, region[i]] for i in order)
    with np.errstate(divide="ignore"):
        return np.log(m[idx])


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    z, meta = load(sys.argv[1])
    x = np.load(sys.argv[2]).astype(np.int64)
    region = [int(s) for s in np.load(sys.argv[3])]
    lp = log_marginals(z, meta, x, region)
    for v in lp:
        print("%.17g" % v)
    if len(sys.argv) == 5:
        expected = np.load(sys.argv[4])
        diff = float(np.max(np.abs(lp - expected)))
        print("max |ln p - expected| = %.3e" % diff)
        if not diff <= 1e-10:
            sys.exit(1)


if __name__ == "__main__":
    main()
