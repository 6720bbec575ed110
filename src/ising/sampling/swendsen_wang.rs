//! The Swendsen-Wang update: random bonds, union-find clusters, random flips.

use rand::Rng;

/// The root of `i`, halving the path on the way.
fn find(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        let grand = parent[parent[i as usize] as usize];
        parent[i as usize] = grand;
        i = grand;
    }
    i
}

/// One sweep: every bond between aligned spins is opened with probability
/// `threshold / 2^64` and joins its two clusters (union by index, path halving);
/// each cluster is then flipped with probability 1/2. Returns the number of spins
/// flipped.
pub(super) fn update<R: Rng + ?Sized>(
    spins: &mut [i8],
    bonds: &[(u32, u32)],
    threshold: u64,
    parent: &mut Vec<u32>,
    flips: &mut Vec<i8>,
    rng: &mut R,
) -> usize {
    let n = spins.len();
    parent.clear();
    parent.extend(0..n as u32);
    for &(i, j) in bonds {
        if spins[i as usize] == spins[j as usize] && rng.next_u64() < threshold {
            let (ri, rj) = (find(parent, i), find(parent, j));
            if ri != rj {
                // Link the larger index under the smaller: roots stay the minimum.
                let (lo, hi) = if ri < rj { (ri, rj) } else { (rj, ri) };
                parent[hi as usize] = lo;
            }
        }
    }
    // 0 = undecided, +-1 = flip decision of the cluster rooted here.
    flips.clear();
    flips.resize(n, 0);
    let mut flipped = 0;
    for (i, spin) in spins.iter_mut().enumerate() {
        let root = find(parent, i as u32) as usize;
        if flips[root] == 0 {
            flips[root] = if rng.random::<bool>() { 1 } else { -1 };
        }
        if flips[root] < 0 {
            *spin = -*spin;
            flipped += 1;
        }
    }
    flipped
}
