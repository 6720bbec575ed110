//! The Wolff single-cluster update.

use rand::Rng;

/// Grows one cluster from a uniformly random seed and flips it; returns its size.
///
/// Spins are flipped as they join, so "aligned with the cluster" is "equal to the
/// seed's old value", and a flipped site is never added twice. Each neighbour entry
/// (one per bond) is tried once with probability `threshold / 2^64`.
pub(super) fn update<R: Rng + ?Sized>(
    spins: &mut [i8],
    neighbors: &[u32],
    coordination: usize,
    threshold: u64,
    stack: &mut Vec<u32>,
    rng: &mut R,
) -> usize {
    let seed = rng.random_range(0..spins.len());
    let old = spins[seed];
    spins[seed] = -old;
    stack.clear();
    stack.push(seed as u32);
    let mut size = 1;
    while let Some(i) = stack.pop() {
        let i = i as usize;
        for &j in &neighbors[coordination * i..coordination * (i + 1)] {
            if spins[j as usize] == old && rng.next_u64() < threshold {
                spins[j as usize] = -old;
                stack.push(j);
                size += 1;
            }
        }
    }
    size
}
