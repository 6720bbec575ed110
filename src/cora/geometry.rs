//! The lattices of a CORA and how they are tied together: [`Architecture`] (the
//! user's settings, validated once) and [`Geometry`] (blocks, boxes and parents at
//! every level, computed arithmetically in `O(1)` per query, so lattices of 2^20
//! sites cost nothing to describe).
//!
//! Conventions. Level `j = 0` is the data lattice `Gamma_0`; level `j >= 1` is
//! `Gamma_j`, each of whose sites stands for a block of `Gamma_{j-1}`. A lattice is
//! `rows x cols` (a chain has `rows = 1`); site `(r, c)` has index `r * cols + c`.
//! "Level `j`" also names the map `pi_j : Gamma_j -> Gamma_{j-1}` (refine, then
//! boxes), so boxes "of level `j`" act on sites of `Gamma_{j-1}`.
//!
//! | scheme | block of a site `(r, c)` of `Gamma_j` | box groups on `Gamma_{j-1}` |
//! |---|---|---|
//! | [`BlockScheme::Chain`] | `2c, 2c+1` | pairs `(2a+1, 2a+2)` |
//! | [`BlockScheme::Square2x2`] | `(2r+u, 2c+v)`, `u, v in {0,1}` | 2x2 squares at `(2a+1, 2b+1)` |
//! | [`BlockScheme::Square3x3`] | `(3r+u, 3c+v)`, `u, v in {0,1,2}` | 2x2 squares at `(3a+2, 3b+2)` (block corners) |
//!
//! Block children and group members are listed row-major (within a group, relative
//! to its anchor, wrapping around a periodic lattice). With [`Boundary::Open`] only
//! groups lying wholly inside the lattice exist, sites in no group pass through the
//! box layer unchanged; with [`Boundary::Periodic`] every anchor exists and groups
//! wrap. Groups are numbered row-major by anchor `(a, b)`.

use crate::error::{Error, Result};

/// How the sites of `Gamma_j` are refined into blocks of `Gamma_{j-1}`, and where
/// the boxes sit (see the table in the [module docs](self)).
///
/// ```
/// use tnlearn::cora::{Architecture, BlockScheme};
///
/// assert_eq!(Architecture::square_3x3(9, 9).scheme, BlockScheme::Square3x3);
/// assert_eq!(BlockScheme::Square2x2.block_size(), 4);
/// assert_eq!(BlockScheme::Chain.factors(), (1, 2));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlockScheme {
    /// 1D chain: each site emits 2 sites; boxes on the pairs straddling two blocks.
    Chain,
    /// 2D square lattice: each site emits a 2x2 block; 2x2 boxes offset by (1, 1).
    Square2x2,
    /// 2D square lattice: each site emits a 3x3 block; 2x2 boxes on the corners where
    /// four blocks meet (Evenbly-Vidal type): cones are at most 2x2 wide.
    Square3x3,
}

/// Boundary conditions of every lattice.
///
/// ```
/// use tnlearn::cora::{Architecture, Boundary, Geometry};
///
/// // Periodic: box groups also straddle the seam.
/// let open = Geometry::new(Architecture::chain(8).levels(1).boxes(true))?;
/// let torus = Geometry::new(Architecture::chain(8).levels(1).boxes(true).boundary(Boundary::Periodic))?;
/// assert_eq!((open.num_groups(1), torus.num_groups(1)), (3, 4));
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Boundary {
    /// Boxes only where they fit; edge sites in no box pass through unchanged.
    Open,
    /// Lattices wrap around (a torus in 2D, a ring in 1D).
    Periodic,
}

/// Whether the local maps of a level are one map used everywhere (translation
/// invariance) or one map per position (images are not translation invariant).
///
/// ```
/// use tnlearn::cora::{Architecture, Geometry, MapSharing};
///
/// let shared = Geometry::new(Architecture::chain(8).levels(2))?; // per level (default)
/// let own = Geometry::new(Architecture::chain(8).levels(2).sharing(MapSharing::PerPosition))?;
/// assert_eq!((shared.num_refine_maps(1), own.num_refine_maps(1)), (1, 4));
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MapSharing {
    /// One refine map, one box map and one coarse-graining prior per level.
    PerLevel,
    /// One refine map per site of `Gamma_j`, one box map per group, one prior per site.
    PerPosition,
}

/// Largest number of entries of the top distribution `e` (a full table over the
/// top lattice): `chi_J ^ (sites of Gamma_J)`.
pub const MAX_TOP_ENTRIES: usize = 1 << 22;

/// Largest number of data sites `rows x cols` of a lattice (every index and every
/// per-site allocation stays far from overflow).
pub const MAX_SITES: usize = 1 << 30;

/// Largest total number of map entries of a model (refine, box and prior maps of
/// every level plus the top table): `2^28` values, 2 GiB of `f64`. Per-position
/// sharing multiplies the maps by the number of sites; this bound keeps a model
/// that cannot be held from being allocated.
pub const MAX_MODEL_ENTRIES: usize = 1 << 28;

/// Largest size, in `usize` words, of the result of [`Geometry::windows`]: the site
/// indices plus [`WINDOW_OVERHEAD`] words of bookkeeping per window (2 GiB).
pub const MAX_WINDOW_ENTRIES: usize = 1 << 28;

/// Words of bookkeeping counted per window against [`MAX_WINDOW_ENTRIES`] (the
/// vector's header and the allocator's minimum block).
pub const WINDOW_OVERHEAD: usize = 6;

/// Largest number of entries of one local map (`chi_{j-1}^(block) x chi_j` for a
/// refine map, `chi^4 x chi^4` for a 2x2 box).
pub const MAX_MAP_ENTRIES: usize = 1 << 24;

/// The settings of a CORA: lattice, scheme, boundary, levels, hidden dimensions,
/// boxes on or off, map sharing. Set builder-style, checked by
/// [`Architecture::validate`] (which every model constructor calls).
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `levels` | as many as the lattice allows | number of maps `pi_1 .. pi_J` |
/// | `chi` | 2 at every level | states of a hidden site of `Gamma_j`, `j >= 1` |
/// | `num_states` | 2 | states `d` of a data site (`Gamma_0`) |
/// | `boundary` | [`Boundary::Open`] | open or periodic lattices |
/// | `boxes` | `true` | `false` gives a hierarchical latent tree |
/// | `sharing` | [`MapSharing::PerLevel`] | one map per level or per position |
///
/// ```
/// use tnlearn::cora::{Architecture, Boundary};
/// let arch = Architecture::chain(16).levels(3).chi(2).boundary(Boundary::Periodic);
/// assert!(arch.validate().is_ok());
/// assert!(Architecture::chain(12).levels(3).validate().is_err()); // 12 / 2^3 is not whole
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Architecture {
    /// Blocks and boxes.
    pub scheme: BlockScheme,
    /// Rows of the data lattice (1 for a chain).
    pub rows: usize,
    /// Columns of the data lattice (the length of a chain).
    pub cols: usize,
    /// Number of levels `J >= 1`.
    pub levels: usize,
    /// `chi_j` for `j = 1..=J` (`chi[j - 1]`); a single entry applies to every level.
    pub chi: Vec<usize>,
    /// States `d` of a data site.
    pub num_states: usize,
    /// Open or periodic.
    pub boundary: Boundary,
    /// Whether the box layer is present.
    pub boxes: bool,
    /// One map per level or per position.
    pub sharing: MapSharing,
}

/// The largest `J` with `b^J` dividing both `rows` and `cols` (`rows` ignored when
/// `rows_factor` is 1).
fn max_levels(rows: usize, cols: usize, row_factor: usize, col_factor: usize) -> usize {
    let (mut r, mut c, mut j) = (rows, cols, 0);
    while r > 0 && c > 0 && r % row_factor == 0 && c % col_factor == 0 && (r > 1 || c > 1) {
        r /= row_factor;
        c /= col_factor;
        j += 1;
    }
    j
}

impl Architecture {
    fn with(scheme: BlockScheme, rows: usize, cols: usize) -> Self {
        let (rf, cf) = scheme.factors();
        Architecture {
            scheme,
            rows,
            cols,
            levels: max_levels(rows, cols, rf, cf).max(1),
            chi: vec![2],
            num_states: 2,
            boundary: Boundary::Open,
            boxes: true,
            sharing: MapSharing::PerLevel,
        }
    }
    /// A chain of `n` data sites ([`BlockScheme::Chain`]).
    pub fn chain(n: usize) -> Self {
        Self::with(BlockScheme::Chain, 1, n)
    }
    /// A `rows x cols` image lattice with 2x2 blocks ([`BlockScheme::Square2x2`]).
    pub fn square_2x2(rows: usize, cols: usize) -> Self {
        Self::with(BlockScheme::Square2x2, rows, cols)
    }
    /// A `rows x cols` image lattice with 3x3 blocks ([`BlockScheme::Square3x3`]).
    pub fn square_3x3(rows: usize, cols: usize) -> Self {
        Self::with(BlockScheme::Square3x3, rows, cols)
    }
    /// Sets the number of levels `J`.
    pub fn levels(mut self, levels: usize) -> Self {
        self.levels = levels;
        self
    }
    /// Sets `chi_j = chi` at every level.
    pub fn chi(mut self, chi: usize) -> Self {
        self.chi = vec![chi];
        self
    }
    /// Sets `chi_j` per level (`chi[j - 1]` for `j = 1..=J`).
    pub fn chi_per_level(mut self, chi: Vec<usize>) -> Self {
        self.chi = chi;
        self
    }
    /// Sets the number of states of a data site.
    pub fn num_states(mut self, num_states: usize) -> Self {
        self.num_states = num_states;
        self
    }
    /// Sets the boundary conditions.
    pub fn boundary(mut self, boundary: Boundary) -> Self {
        self.boundary = boundary;
        self
    }
    /// Turns the box layer on or off.
    pub fn boxes(mut self, boxes: bool) -> Self {
        self.boxes = boxes;
        self
    }
    /// Sets the map sharing.
    pub fn sharing(mut self, sharing: MapSharing) -> Self {
        self.sharing = sharing;
        self
    }

    /// `chi_j` for `j >= 1`, `d` for `j = 0` (no range check).
    ///
    /// # Panics
    /// If `chi` has one entry per level and `level > chi.len()` (a validated
    /// architecture has `level <= J = chi.len()`; see [`Geometry::chi`]).
    pub fn chi_at(&self, level: usize) -> usize {
        if level == 0 {
            self.num_states
        } else if self.chi.len() == 1 {
            self.chi[0]
        } else {
            self.chi[level - 1]
        }
    }

    /// Checks every setting: `levels >= 1`; the lattice (`rows = 1` for a chain)
    /// divisible by the block size at every level; `chi` of length 1 or `levels`
    /// with entries `>= 1`; `num_states` in `2..=256`; the top table
    /// `chi_J^(sites of Gamma_J)` at most [`MAX_TOP_ENTRIES`]; every local map at
    /// most [`MAX_MAP_ENTRIES`] entries. The error names the setting.
    pub fn validate(&self) -> Result<()> {
        let (rf, cf) = self.scheme.factors();
        if self.scheme == BlockScheme::Chain && self.rows != 1 {
            return Err(Error::invalid_argument(
                "rows",
                format!("a chain has rows = 1 (got {})", self.rows),
            ));
        }
        if self.rows == 0 || self.cols == 0 {
            return Err(Error::invalid_argument(
                "lattice",
                format!("empty lattice {} x {}", self.rows, self.cols),
            ));
        }
        if self
            .rows
            .checked_mul(self.cols)
            .is_none_or(|n| n > MAX_SITES)
        {
            return Err(Error::invalid_argument(
                "lattice",
                format!(
                    "{} x {} data sites exceed the limit of {MAX_SITES} sites",
                    self.rows, self.cols
                ),
            ));
        }
        if self.levels == 0 {
            return Err(Error::invalid_argument("levels", "must be at least 1"));
        }
        let (mut r, mut c) = (self.rows, self.cols);
        for j in 1..=self.levels {
            if r % rf != 0 || c % cf != 0 {
                return Err(Error::invalid_argument(
                    "levels",
                    format!(
                        "{} levels of {:?} blocks need a {} x {} lattice divisible by {} x {}, \
                         but level {j} would refine a {r} x {c} lattice (this lattice allows at \
                         most {} levels); pad or crop the data or use fewer levels",
                        self.levels,
                        self.scheme,
                        self.rows,
                        self.cols,
                        power(rf, self.levels),
                        power(cf, self.levels),
                        max_levels(self.rows, self.cols, rf, cf)
                    ),
                ));
            }
            r /= rf;
            c /= cf;
        }
        if self.chi.len() != 1 && self.chi.len() != self.levels {
            return Err(Error::invalid_argument(
                "chi",
                format!(
                    "give one chi for every level or one per level ({} levels, {} values)",
                    self.levels,
                    self.chi.len()
                ),
            ));
        }
        if let Some(p) = self.chi.iter().position(|&x| x == 0 || x > 256) {
            return Err(Error::invalid_argument(
                "chi",
                format!(
                    "chi of level {} is {}; it must be in 1..=256 (coarse-grained data are u8)",
                    p + 1,
                    self.chi[p]
                ),
            ));
        }
        if !(2..=256).contains(&self.num_states) {
            return Err(Error::invalid_argument(
                "num_states",
                format!("must be in 2..=256 (got {})", self.num_states),
            ));
        }
        // r * c <= rows * cols <= MAX_SITES: no overflow; the exponent saturates.
        let top_sites = u32::try_from(r * c).unwrap_or(u32::MAX);
        let top = (self.chi_at(self.levels) as u128).saturating_pow(top_sites);
        if top > MAX_TOP_ENTRIES as u128 {
            return Err(Error::invalid_argument(
                "levels",
                format!(
                    "the top distribution over {r} x {c} sites with chi = {} has {top} entries \
                     (limit {MAX_TOP_ENTRIES}); use more levels or a smaller chi at the top",
                    self.chi_at(self.levels)
                ),
            ));
        }
        let block = (rf * cf) as u32;
        for j in 1..=self.levels {
            let fine = self.chi_at(j - 1) as u128;
            let refine = fine.saturating_pow(block) * self.chi_at(j) as u128;
            let boxes = if self.boxes {
                fine.saturating_pow(2 * self.scheme.group_size() as u32)
            } else {
                0
            };
            if refine.max(boxes) > MAX_MAP_ENTRIES as u128 {
                // The block of level 1 is made of data sites: there the culprit is
                // num_states, above it is the chi of the level below.
                let (name, what) = if j == 1 {
                    ("num_states", "data states")
                } else {
                    ("chi", "states")
                };
                return Err(Error::invalid_argument(
                    name,
                    format!(
                        "the maps of level {j} would have {} entries (limit {MAX_MAP_ENTRIES}): \
                         blocks of {block} sites of {fine} {what} each",
                        refine.max(boxes)
                    ),
                ));
            }
        }
        let total = Geometry::unchecked(self.clone()).model_entries();
        if total > MAX_MODEL_ENTRIES as u128 {
            return Err(Error::invalid_argument(
                "sharing",
                format!(
                    "the model would hold {total} map entries (limit {MAX_MODEL_ENTRIES}); use \
                     MapSharing::PerLevel, a smaller lattice or a smaller chi"
                ),
            ));
        }
        Ok(())
    }
}

/// `f^l` as a number when it fits in `usize`, else as `"f^l"`.
fn power(f: usize, l: usize) -> String {
    match u32::try_from(l).ok().and_then(|l| f.checked_pow(l)) {
        Some(v) => v.to_string(),
        None => format!("{f}^{l}"),
    }
}

impl BlockScheme {
    /// Block factors (rows, cols).
    pub fn factors(self) -> (usize, usize) {
        match self {
            BlockScheme::Chain => (1, 2),
            BlockScheme::Square2x2 => (2, 2),
            BlockScheme::Square3x3 => (3, 3),
        }
    }
    /// Sites per block (`2`, `4` or `9`).
    pub fn block_size(self) -> usize {
        let (r, c) = self.factors();
        r * c
    }
    /// Sites per box group (`2` or `4`).
    pub fn group_size(self) -> usize {
        match self {
            BlockScheme::Chain => 2,
            _ => 4,
        }
    }
    fn axis_rules(self) -> [AxisRule; 2] {
        let trivial = AxisRule {
            block: 1,
            start: 0,
            extent: 1,
        };
        match self {
            BlockScheme::Chain => [
                trivial,
                AxisRule {
                    block: 2,
                    start: 1,
                    extent: 2,
                },
            ],
            BlockScheme::Square2x2 => {
                [AxisRule {
                    block: 2,
                    start: 1,
                    extent: 2,
                }; 2]
            }
            BlockScheme::Square3x3 => {
                [AxisRule {
                    block: 3,
                    start: 2,
                    extent: 2,
                }; 2]
            }
        }
    }
}

/// One axis of the scheme: blocks of `block` sites; box groups of `extent` sites
/// starting at `start + a * block`. The trivial axis (rows of a chain) has
/// `block = 1, extent = 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct AxisRule {
    block: usize,
    start: usize,
    extent: usize,
}

impl AxisRule {
    /// Number of group anchors along an axis of `fine` sites (`coarse = fine / block`).
    fn anchors(&self, fine: usize, periodic: bool) -> usize {
        if self.extent == 1 {
            fine
        } else if periodic {
            fine / self.block
        } else if fine < self.start + self.extent {
            0
        } else {
            (fine - self.start - self.extent) / self.block + 1
        }
    }
    /// The group (anchor, offset) containing fine coordinate `x`, if any.
    fn group_of(&self, x: usize, fine: usize, periodic: bool) -> Option<(usize, usize)> {
        if self.extent == 1 {
            return Some((x, 0));
        }
        let b = self.block as isize;
        let d = x as isize - self.start as isize;
        let a = d.div_euclid(b);
        let off = d.rem_euclid(b) as usize;
        if off >= self.extent {
            return None;
        }
        let n = self.anchors(fine, periodic) as isize;
        if a >= 0 && a < n {
            Some((a as usize, off))
        } else if periodic && a < 0 {
            Some(((a + n) as usize, off))
        } else {
            None
        }
    }
    /// Fine coordinate of position `off` of group `a`.
    fn member(&self, a: usize, off: usize, fine: usize) -> usize {
        (self.start + a * self.block + off) % fine
    }
}

/// The derived structure of a validated [`Architecture`]: lattice sizes per level,
/// blocks, parents and box groups.
///
/// ```
/// use tnlearn::cora::{Architecture, Geometry};
///
/// let g = Geometry::new(Architecture::square_2x2(4, 4).levels(2))?;
/// assert_eq!((g.dims(1), g.num_sites(2)), ((2, 2), 1));
/// assert_eq!(g.children(1, 0), vec![0, 1, 4, 5]); // the 2x2 block of coarse site 0
/// assert_eq!(g.parent(1, 5), (0, 3)); // fine site 5 is the last of that block
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Geometry {
    arch: Architecture,
    dims: Vec<(usize, usize)>,
    rules: [AxisRule; 2],
}

impl Geometry {
    /// The geometry of `arch` (validated first).
    ///
    /// # Errors
    /// As [`Architecture::validate`].
    pub fn new(arch: Architecture) -> Result<Self> {
        arch.validate()?;
        Ok(Self::unchecked(arch))
    }

    /// The geometry of an architecture whose lattice is divisible at every level
    /// (checked by [`Architecture::validate`] before any other use).
    fn unchecked(arch: Architecture) -> Self {
        let (rf, cf) = arch.scheme.factors();
        let mut dims = vec![(arch.rows, arch.cols)];
        for j in 1..=arch.levels {
            let (r, c) = dims[j - 1];
            dims.push((r / rf, c / cf));
        }
        let rules = arch.scheme.axis_rules();
        Geometry { arch, dims, rules }
    }

    /// Total map entries of a model of this geometry (all levels, all maps, top
    /// table), in `u128` saturating arithmetic.
    fn model_entries(&self) -> u128 {
        let block = self.block_size() as u32;
        let group = self.group_size() as u32;
        let mut total: u128 = 0;
        for j in 1..=self.levels() {
            let fine = self.chi(j - 1) as u128;
            let coarse = self.chi(j) as u128;
            let refine = fine.saturating_pow(block).saturating_mul(coarse);
            let boxes = fine.saturating_pow(2 * group);
            total = total
                .saturating_add((self.num_refine_maps(j) as u128).saturating_mul(refine + coarse))
                .saturating_add((self.num_box_maps(j) as u128).saturating_mul(boxes));
        }
        let top_sites = u32::try_from(self.num_sites(self.levels())).unwrap_or(u32::MAX);
        total.saturating_add((self.chi(self.levels()) as u128).saturating_pow(top_sites))
    }
    /// The settings.
    pub fn architecture(&self) -> &Architecture {
        &self.arch
    }
    /// Number of levels `J`.
    pub fn levels(&self) -> usize {
        self.arch.levels
    }
    /// `(rows, cols)` of `Gamma_level` (`level <= J`).
    ///
    /// # Panics
    /// If `level > J`; [`Geometry::try_dims`] returns an error instead.
    pub fn dims(&self, level: usize) -> (usize, usize) {
        self.try_dims(level).unwrap_or_else(|e| panic!("{e}"))
    }
    /// `(rows, cols)` of `Gamma_level`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming `level` if `level > J`.
    pub fn try_dims(&self, level: usize) -> Result<(usize, usize)> {
        self.dims.get(level).copied().ok_or_else(|| {
            Error::invalid_argument(
                "level",
                format!("must be in 0..={} (got {level})", self.levels()),
            )
        })
    }
    /// Number of sites of `Gamma_level`.
    ///
    /// # Panics
    /// If `level > J`; [`Geometry::try_num_sites`] returns an error instead.
    pub fn num_sites(&self, level: usize) -> usize {
        self.try_num_sites(level).unwrap_or_else(|e| panic!("{e}"))
    }
    /// Number of sites of `Gamma_level`.
    ///
    /// # Errors
    /// As [`Geometry::try_dims`].
    pub fn try_num_sites(&self, level: usize) -> Result<usize> {
        // rows * cols <= MAX_SITES at level 0 and shrinks above (validated).
        let (r, c) = self.try_dims(level)?;
        Ok(r * c)
    }
    /// States of a site of `Gamma_level` (`d` at level 0, `chi_j` above).
    ///
    /// # Panics
    /// If `level > J` and `chi` was given per level.
    pub fn chi(&self, level: usize) -> usize {
        self.arch.chi_at(level)
    }
    /// Sites per block.
    pub fn block_size(&self) -> usize {
        self.arch.scheme.block_size()
    }
    /// Sites per box group.
    pub fn group_size(&self) -> usize {
        self.arch.scheme.group_size()
    }
    fn periodic(&self) -> bool {
        self.arch.boundary == Boundary::Periodic
    }
    /// Checks `level` in `1..=J` (a level with a map) and `index < count`.
    fn check_map_level(&self, level: usize) -> Result<()> {
        if level == 0 || level > self.levels() {
            return Err(Error::invalid_argument(
                "level",
                format!("must be in 1..={} (got {level})", self.levels()),
            ));
        }
        Ok(())
    }
    fn check_index(what: &str, index: usize, count: usize, level: usize) -> Result<()> {
        if index >= count {
            return Err(Error::invalid_argument(
                what,
                format!("{what} {index} out of range: level {level} has {count}"),
            ));
        }
        Ok(())
    }
    /// The block of site `site` of `Gamma_level` (`level >= 1`): its children on
    /// `Gamma_{level-1}`, row-major.
    ///
    /// # Panics
    /// If `level` is not in `1..=J` or `site` is not a site of `Gamma_level`;
    /// [`Geometry::try_children`] returns an error instead.
    pub fn children(&self, level: usize, site: usize) -> Vec<usize> {
        self.try_children(level, site)
            .unwrap_or_else(|e| panic!("{e}"))
    }
    /// The block of site `site` of `Gamma_level`, checked.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming `level` (not in `1..=J`) or `site` (not a
    /// site of `Gamma_level`).
    pub fn try_children(&self, level: usize, site: usize) -> Result<Vec<usize>> {
        self.check_map_level(level)?;
        Self::check_index("site", site, self.num_sites(level), level)?;
        let (_, cols) = self.dims[level];
        let (_, fcols) = self.dims[level - 1];
        let (r, c) = (site / cols, site % cols);
        let (rb, cb) = (self.rules[0].block, self.rules[1].block);
        let mut out = Vec::with_capacity(rb * cb);
        for u in 0..rb {
            for v in 0..cb {
                out.push((r * rb + u) * fcols + c * cb + v);
            }
        }
        Ok(out)
    }
    /// The parent on `Gamma_level` of site `site` of `Gamma_{level-1}`, and its
    /// position in the parent's block.
    ///
    /// # Panics
    /// If `level` is not in `1..=J` or `site` is not a site of `Gamma_{level-1}`;
    /// [`Geometry::try_parent`] returns an error instead.
    pub fn parent(&self, level: usize, site: usize) -> (usize, usize) {
        self.try_parent(level, site)
            .unwrap_or_else(|e| panic!("{e}"))
    }
    /// The parent of site `site` of `Gamma_{level-1}`, checked.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming `level` (not in `1..=J`) or `site` (not a
    /// site of `Gamma_{level-1}`).
    pub fn try_parent(&self, level: usize, site: usize) -> Result<(usize, usize)> {
        self.check_map_level(level)?;
        Self::check_index("site", site, self.num_sites(level - 1), level - 1)?;
        let (_, fcols) = self.dims[level - 1];
        let (_, cols) = self.dims[level];
        let (r, c) = (site / fcols, site % fcols);
        let (rb, cb) = (self.rules[0].block, self.rules[1].block);
        Ok(((r / rb) * cols + c / cb, (r % rb) * cb + c % cb))
    }
    fn anchors(&self, level: usize) -> (usize, usize) {
        let (fr, fc) = self.dims[level - 1];
        let p = self.periodic();
        (self.rules[0].anchors(fr, p), self.rules[1].anchors(fc, p))
    }
    /// Number of box groups of level `level` (0 when boxes are off).
    ///
    /// # Panics
    /// If `level` is not in `1..=J`; [`Geometry::try_num_groups`] returns an error
    /// instead.
    pub fn num_groups(&self, level: usize) -> usize {
        self.try_num_groups(level).unwrap_or_else(|e| panic!("{e}"))
    }
    /// Number of box groups of level `level`, checked.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming `level` if it is not in `1..=J`.
    pub fn try_num_groups(&self, level: usize) -> Result<usize> {
        self.check_map_level(level)?;
        if !self.arch.boxes {
            return Ok(0);
        }
        let (a, b) = self.anchors(level);
        Ok(a * b)
    }
    /// The sites of `Gamma_{level-1}` in box group `group` of level `level`, row-major
    /// relative to the anchor.
    ///
    /// # Panics
    /// If `level` is not in `1..=J` or `group` is not a group of the level;
    /// [`Geometry::try_group_sites`] returns an error instead.
    pub fn group_sites(&self, level: usize, group: usize) -> Vec<usize> {
        self.try_group_sites(level, group)
            .unwrap_or_else(|e| panic!("{e}"))
    }
    /// The sites of box group `group` of level `level`, checked.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming `level` (not in `1..=J`) or `group` (not
    /// below [`Geometry::num_groups`]).
    pub fn try_group_sites(&self, level: usize, group: usize) -> Result<Vec<usize>> {
        Self::check_index("group", group, self.try_num_groups(level)?, level)?;
        let (fr, fc) = self.dims[level - 1];
        let (_, nb) = self.anchors(level);
        let (a, b) = (group / nb, group % nb);
        let mut out = Vec::with_capacity(4);
        for u in 0..self.rules[0].extent {
            for v in 0..self.rules[1].extent {
                out.push(self.rules[0].member(a, u, fr) * fc + self.rules[1].member(b, v, fc));
            }
        }
        Ok(out)
    }
    /// The box group of level `level` containing site `site` of `Gamma_{level-1}`, and
    /// the site's position in it; `None` if the site passes through unchanged.
    ///
    /// # Panics
    /// If `level` is not in `1..=J` or `site` is not a site of `Gamma_{level-1}`;
    /// [`Geometry::try_group_of`] returns an error instead.
    pub fn group_of(&self, level: usize, site: usize) -> Option<(usize, usize)> {
        self.try_group_of(level, site)
            .unwrap_or_else(|e| panic!("{e}"))
    }
    /// The box group containing site `site` of `Gamma_{level-1}`, checked.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming `level` (not in `1..=J`) or `site` (not a
    /// site of `Gamma_{level-1}`).
    pub fn try_group_of(&self, level: usize, site: usize) -> Result<Option<(usize, usize)>> {
        self.check_map_level(level)?;
        Self::check_index("site", site, self.num_sites(level - 1), level - 1)?;
        if !self.arch.boxes {
            return Ok(None);
        }
        let (fr, fc) = self.dims[level - 1];
        let p = self.periodic();
        let (r, c) = (site / fc, site % fc);
        let Some((a, u)) = self.rules[0].group_of(r, fr, p) else {
            return Ok(None);
        };
        let Some((b, v)) = self.rules[1].group_of(c, fc, p) else {
            return Ok(None);
        };
        let (_, nb) = self.anchors(level);
        Ok(Some((a * nb + b, u * self.rules[1].extent + v)))
    }
    /// Index of the refine map used by site `site` of `Gamma_level`.
    pub fn refine_index(&self, _level: usize, site: usize) -> usize {
        match self.arch.sharing {
            MapSharing::PerLevel => 0,
            MapSharing::PerPosition => site,
        }
    }
    /// Index of the box map used by group `group` of level `level`.
    pub fn box_index(&self, _level: usize, group: usize) -> usize {
        match self.arch.sharing {
            MapSharing::PerLevel => 0,
            MapSharing::PerPosition => group,
        }
    }
    /// Number of distinct refine maps of level `level`.
    ///
    /// # Panics
    /// If `level > J` (check with [`Geometry::try_dims`]).
    pub fn num_refine_maps(&self, level: usize) -> usize {
        match self.arch.sharing {
            MapSharing::PerLevel => 1,
            MapSharing::PerPosition => self.num_sites(level),
        }
    }
    /// Number of distinct box maps of level `level` (0 without boxes).
    ///
    /// # Panics
    /// If `level` is not in `1..=J` (check with [`Geometry::try_num_groups`]).
    pub fn num_box_maps(&self, level: usize) -> usize {
        let g = self.num_groups(level);
        match self.arch.sharing {
            MapSharing::PerLevel => g.min(1),
            MapSharing::PerPosition => g,
        }
    }
    /// The sites of a `height x width` window of `Gamma_level` with top-left corner
    /// `(row, col)`, row-major; on a periodic lattice the window wraps.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the window is empty, larger than the lattice, or
    /// (open boundary) does not fit.
    pub fn window(
        &self,
        level: usize,
        (row, col): (usize, usize),
        (height, width): (usize, usize),
    ) -> Result<Vec<usize>> {
        let (rows, cols) = *self.dims.get(level).ok_or_else(|| {
            Error::invalid_argument("level", format!("{level} > J = {}", self.levels()))
        })?;
        if height == 0 || width == 0 || height > rows || width > cols {
            return Err(Error::invalid_argument(
                "window",
                format!("{height} x {width} window on a {rows} x {cols} lattice"),
            ));
        }
        // height <= rows and width <= cols: the subtractions cannot wrap, and unlike
        // `row + height` they cannot overflow for a huge `row`.
        let fits = row <= rows - height && col <= cols - width;
        if !(fits || (self.periodic() && row < rows && col < cols)) {
            return Err(Error::invalid_argument(
                "window",
                format!(
                    "{height} x {width} window at ({row}, {col}) leaves the open {rows} x {cols} lattice"
                ),
            ));
        }
        let mut out = Vec::with_capacity(height * width);
        for u in 0..height {
            for v in 0..width {
                out.push(((row + u) % rows) * cols + (col + v) % cols);
            }
        }
        Ok(out)
    }
}

impl Geometry {
    /// Every `height x width` window of `Gamma_level`: all positions fully inside an
    /// open lattice, every position (wrapping) on a periodic one. Row-major sites.
    ///
    /// # Errors
    /// As [`Geometry::window`].
    pub fn windows(
        &self,
        level: usize,
        (height, width): (usize, usize),
    ) -> Result<Vec<Vec<usize>>> {
        let (rows, cols) = *self.dims.get(level).ok_or_else(|| {
            Error::invalid_argument("level", format!("{level} > J = {}", self.levels()))
        })?;
        if height == 0 || width == 0 || height > rows || width > cols {
            return Err(Error::invalid_argument(
                "patch",
                format!("{height} x {width} patch on the {rows} x {cols} lattice of level {level}"),
            ));
        }
        let (nr, nc) = if self.periodic() {
            (rows, cols)
        } else {
            (rows - height + 1, cols - width + 1)
        };
        // nr * nc <= sites and height * width <= sites, both <= MAX_SITES.
        let entries =
            (nr as u128) * (nc as u128) * ((height * width) as u128 + WINDOW_OVERHEAD as u128);
        if entries > MAX_WINDOW_ENTRIES as u128 {
            return Err(Error::invalid_argument(
                "patch",
                format!(
                    "{nr} x {nc} windows of {height} x {width} sites take {entries} words \
                     (limit {MAX_WINDOW_ENTRIES}); use a smaller patch or lattice"
                ),
            ));
        }
        let mut out = Vec::with_capacity(nr * nc);
        for r in 0..nr {
            for c in 0..nc {
                out.push(self.window(level, (r, c), (height, width))?);
            }
        }
        Ok(out)
    }
}
