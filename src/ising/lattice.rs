//! The two lattices of the Ising data: the periodic chain ([`Lattice::Ring`]) and the
//! `L x L` torus ([`Lattice::Square`]).

use crate::error::{Error, Result};

/// A periodic lattice of Ising spins with nearest-neighbour bonds.
///
/// Sites are numbered row-major: on the square lattice site `r * l + c` is row `r`,
/// column `c`. Bonds are `(i, right(i))` for every site, plus `(i, down(i))` on the
/// square lattice, so there are `n` bonds on a ring of `n` sites and `2 L^2` on the
/// `L x L` torus. On the smallest lattices (ring of 2, `L = 2`) the same pair of sites
/// is joined by two bonds, which is what the periodic formulas count.
///
/// ```
/// use tnlearn::ising::Lattice;
/// let torus = Lattice::square(4)?;
/// assert_eq!((torus.num_sites(), torus.bonds().len()), (16, 32));
/// assert_eq!(torus.energy(&[1i8; 16])?, -32.0); // all aligned: E = -2 L^2
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lattice {
    /// A periodic chain of `n` sites.
    Ring {
        /// Number of sites, at least 2.
        n: usize,
    },
    /// An `l x l` square lattice with periodic boundaries in both directions.
    Square {
        /// Linear size, at least 2.
        l: usize,
    },
}

/// Largest number of sites a lattice may have (site indices are stored as `u32`).
const MAX_SITES: usize = u32::MAX as usize;

impl Lattice {
    /// A periodic chain of `n >= 2` sites.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `n < 2` or `n` does not fit in `u32`.
    pub fn ring(n: usize) -> Result<Self> {
        if !(2..=MAX_SITES).contains(&n) {
            return Err(Error::invalid_argument(
                "n",
                format!("a ring needs 2..={MAX_SITES} sites, got {n}"),
            ));
        }
        Ok(Lattice::Ring { n })
    }

    /// An `l x l` torus, `l >= 2`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `l < 2` or `l^2` does not fit in `u32`.
    pub fn square(l: usize) -> Result<Self> {
        if l < 2 || l.checked_mul(l).is_none_or(|n| n > MAX_SITES) {
            return Err(Error::invalid_argument(
                "l",
                format!("a square lattice needs l >= 2 and l^2 <= {MAX_SITES}, got l = {l}"),
            ));
        }
        Ok(Lattice::Square { l })
    }

    /// The number of sites `N` (`n`, or `l^2`): the old name of
    /// [`num_sites`](Self::num_sites).
    #[deprecated(
        since = "0.2.0",
        note = "use `Lattice::num_sites`, the name used everywhere else"
    )]
    pub fn n_sites(&self) -> usize {
        self.num_sites()
    }

    /// The number of sites `N` (`n`, or `l^2`).
    pub fn num_sites(&self) -> usize {
        match *self {
            Lattice::Ring { n } => n,
            Lattice::Square { l } => l * l,
        }
    }

    /// The number of neighbours of each site, counted with multiplicity: 2 or 4.
    pub fn coordination(&self) -> usize {
        match self {
            Lattice::Ring { .. } => 2,
            Lattice::Square { .. } => 4,
        }
    }

    /// The image shape of a configuration: `(1, n)` for a ring, `(l, l)` for a torus.
    pub fn image_shape(&self) -> (usize, usize) {
        match *self {
            Lattice::Ring { n } => (1, n),
            Lattice::Square { l } => (l, l),
        }
    }

    /// Every bond `(i, j)` once (see the type's documentation for the order).
    ///
    /// # Panics
    /// Aborts like any allocation if the `16 x bonds` bytes cannot be allocated (a
    /// lattice near the size limit); [`Lattice::try_bonds`] returns an error instead.
    pub fn bonds(&self) -> Vec<(usize, usize)> {
        self.try_bonds().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Every bond `(i, j)` once, allocated fallibly.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the lattice if the table cannot be allocated.
    pub fn try_bonds(&self) -> Result<Vec<(usize, usize)>> {
        let count = self.num_sites() * self.coordination() / 2;
        let mut bonds = try_vec_with_capacity(count, "bond list", self)?;
        match *self {
            Lattice::Ring { n } => bonds.extend((0..n).map(|i| (i, (i + 1) % n))),
            Lattice::Square { l } => {
                for r in 0..l {
                    for c in 0..l {
                        let i = r * l + c;
                        bonds.push((i, r * l + (c + 1) % l));
                        bonds.push((i, ((r + 1) % l) * l + c));
                    }
                }
            }
        }
        Ok(bonds)
    }

    /// The neighbour table: entries `z * i .. z * (i + 1)` (with `z` the
    /// [`coordination`](Self::coordination)) are the neighbours of site `i`, one entry
    /// per bond (so a doubled bond appears twice).
    ///
    /// # Panics
    /// Aborts like any allocation if the table cannot be allocated (a lattice near
    /// the size limit); [`Lattice::try_neighbors`] returns an error instead.
    pub fn neighbors(&self) -> Vec<u32> {
        self.try_neighbors().unwrap_or_else(|e| panic!("{e}"))
    }

    /// The neighbour table, allocated fallibly.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the lattice if the table cannot be allocated.
    pub fn try_neighbors(&self) -> Result<Vec<u32>> {
        let z = self.coordination();
        let n = self.num_sites();
        let mut table = try_vec_with_capacity(z * n, "neighbour table", self)?;
        table.resize(z * n, 0u32);
        let mut filled: Vec<u8> = try_vec_with_capacity(n, "neighbour table", self)?;
        filled.resize(n, 0);
        let mut add = |i: usize, j: usize| {
            table[z * i + filled[i] as usize] = j as u32;
            filled[i] += 1;
        };
        match *self {
            Lattice::Ring { n } => {
                for i in 0..n {
                    let j = (i + 1) % n;
                    add(i, j);
                    add(j, i);
                }
            }
            Lattice::Square { l } => {
                for r in 0..l {
                    for c in 0..l {
                        let i = r * l + c;
                        for j in [r * l + (c + 1) % l, ((r + 1) % l) * l + c] {
                            add(i, j);
                            add(j, i);
                        }
                    }
                }
            }
        }
        Ok(table)
    }

    /// The energy `E = -sum_<ij> s_i s_j` of a configuration of spins `+-1`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `spins.len() != n_sites`; [`Error::InvalidArgument`]
    /// naming the site if a spin is not `+1` or `-1`.
    pub fn energy(&self, spins: &[i8]) -> Result<f64> {
        self.check_spins(spins)?;
        Ok(-(self.bond_sum(spins) as f64))
    }

    /// Checks that `spins` is a configuration of this lattice.
    pub(crate) fn check_spins(&self, spins: &[i8]) -> Result<()> {
        if spins.len() != self.num_sites() {
            return Err(Error::shape_mismatch(
                "Ising configuration (one spin per site)",
                [self.num_sites()],
                [spins.len()],
            ));
        }
        if let Some(i) = spins.iter().position(|&s| s != 1 && s != -1) {
            return Err(Error::invalid_argument(
                "spins",
                format!("site {i} holds {}, but spins must be +1 or -1", spins[i]),
            ));
        }
        Ok(())
    }

    /// `sum_<ij> s_i s_j` without checks (spins of the right length, `+-1`).
    pub(crate) fn bond_sum(&self, spins: &[i8]) -> i64 {
        match *self {
            Lattice::Ring { n } => (0..n)
                .map(|i| i64::from(spins[i] * spins[(i + 1) % n]))
                .sum(),
            Lattice::Square { l } => {
                let mut sum = 0i64;
                for r in 0..l {
                    let row = &spins[r * l..(r + 1) * l];
                    let down = &spins[((r + 1) % l) * l..((r + 1) % l + 1) * l];
                    for c in 0..l {
                        sum += i64::from(row[c] * row[(c + 1) % l]) + i64::from(row[c] * down[c]);
                    }
                }
                sum
            }
        }
    }
}

/// An empty vector with room for `len` items, allocated fallibly (site counts are
/// at most `u32::MAX`, so `len` times a small item size cannot overflow `isize`).
pub(crate) fn try_vec_with_capacity<T>(
    len: usize,
    what: &str,
    lattice: &Lattice,
) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|e| {
        Error::invalid_argument(
            "lattice",
            format!(
                "cannot allocate the {what} of {} sites ({len} entries of {} bytes): {e}",
                lattice.num_sites(),
                std::mem::size_of::<T>()
            ),
        )
    })?;
    Ok(v)
}

/// The snake (boustrophedon) order of an `rows x cols` image: row 0 left to right,
/// row 1 right to left, and so on, so that consecutive positions are always lattice
/// neighbours. Entry `k` is the row-major site at position `k`; use it to lay a 2D
/// configuration along a one-dimensional model such as an MPS
/// (`dataset.samples().select(Axis(1), &order)`).
///
/// ```
/// assert_eq!(tnlearn::ising::snake_order(2, 3)?, vec![0, 1, 2, 5, 4, 3]);
/// # Ok::<(), tnlearn::Error>(())
/// ```
///
/// # Errors
/// [`Error::InvalidArgument`] naming `rows` and `cols` if `rows x cols` overflows or
/// the order cannot be allocated.
pub fn snake_order(rows: usize, cols: usize) -> Result<Vec<usize>> {
    let too_big = |detail: String| {
        Error::invalid_argument(
            "rows",
            format!("snake order of a {rows} x {cols} image: {detail}"),
        )
    };
    let len = rows
        .checked_mul(cols)
        .ok_or_else(|| too_big("the number of sites overflows".into()))?;
    let mut order = Vec::new();
    order
        .try_reserve_exact(len)
        .map_err(|e| too_big(format!("cannot allocate {len} indices ({e})")))?;
    order.extend((0..rows).flat_map(|r| {
        (0..cols).map(move |k| r * cols + if r % 2 == 0 { k } else { cols - 1 - k })
    }));
    Ok(order)
}
