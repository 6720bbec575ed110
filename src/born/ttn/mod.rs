//! The model: [`TtnBornMachine`], its construction and exact likelihoods.

use ndarray::{Array3, ArrayView2};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::born::checks::{self, check_initial_size, check_num_states, check_samples};
use crate::born::options::BornOptions;
use messages::{node_message, Msgs};

mod io;
pub(crate) use io::MAGIC;
mod messages;
mod sampling;
mod training;
use crate::error::{Error, Result};
use crate::ttn::{Child, Tree, Ttn};

/// A tree tensor network Born machine (Cheng, Wang, Xiang, Zhang, PRB 99, 155131
/// (2019)):
///
/// ```text
/// p(x) = |psi(x)|^2 / Z,   psi(x) = the tree contracted with every site leg fixed to x_s,
/// Z = sum_x |psi(x)|^2 = ||T_c||_F^2   (canonical form, centre c)
/// ```
///
/// over the `N` sites of a binary [`Tree`] ([`Tree::image`] for images, so that
/// neighbouring pixels are a few tree edges apart in both directions) with `d`
/// states each. Same options ([`BornOptions`]), observer and file conventions as
/// [`MpsBornMachine`](crate::born::MpsBornMachine): training by two-node gradient updates
/// along the tree edges with adaptive bond dimension, exact likelihoods, exact
/// i.i.d. and conditional samples, exact marginals, versioned save/load.
///
/// Outside of [`fit`](crate::born::BornMachine::fit) the orthogonality centre is the root and
/// `||T_root|| = 1`; every other node is an isometry from its children to its parent.
///
/// ```
/// use rand::SeedableRng;
/// use tnlearn::born::{BornMachine, BornOptions, TtnBornMachine};
/// use tnlearn::ttn::Tree;
/// use tnlearn::Dataset;
///
/// let data = Dataset::binary(ndarray::array![[0, 1, 1, 0], [1, 0, 0, 1]])?;
/// let opts = BornOptions::new().max_bond(4).sweeps(10);
/// let mut model = TtnBornMachine::new(Tree::image(2, 2)?, 2, opts)?;
/// model.fit(&data)?;
/// assert!(model.nll(&data)? < 2f64.ln() + 0.05); // two patterns: floor ln 2
/// let samples = model.sample(5, &mut rand::rngs::StdRng::seed_from_u64(1))?;
/// assert_eq!(samples.dim(), (5, 4));
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct TtnBornMachine {
    pub(crate) ttn: Ttn<f64>,
    pub(crate) options: BornOptions,
}

impl TtnBornMachine {
    /// A random model on `tree` with `num_states` states per site: a TTN of bond
    /// dimension `options.initial_bond` with standard normal entries from a generator
    /// seeded with `options.seed`, canonical with centre at the root, normalised.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the setting for invalid `options`, a tree
    /// with fewer than 3 sites (training needs an edge between two nodes), or
    /// `num_states` outside `2..=256`; naming `initial_bond` if the random initial
    /// TTN would exceed [`MAX_INITIAL_ENTRIES`](crate::born::MAX_INITIAL_ENTRIES)
    /// values.
    pub fn new(tree: Tree, num_states: usize, options: BornOptions) -> Result<Self> {
        options.validate()?;
        check_num_states(num_states)?;
        if tree.num_sites() < 3 {
            return Err(Error::invalid_argument(
                "tree",
                format!(
                    "a TTN Born machine needs at least 3 sites (got {})",
                    tree.num_sites()
                ),
            ));
        }
        check_initial_size(tree.num_sites(), num_states, options.initial_bond)?;
        let mut rng = StdRng::seed_from_u64(options.seed);
        let ttn = Ttn::random(tree, num_states, options.initial_bond, &mut rng)?;
        Self::from_ttn(&ttn, options)
    }

    /// A model for `rows x cols` images: [`TtnBornMachine::new`] on
    /// [`Tree::image`]`(rows, cols)`.
    pub fn for_image(
        rows: usize,
        cols: usize,
        num_states: usize,
        options: BornOptions,
    ) -> Result<Self> {
        Self::new(Tree::image(rows, cols)?, num_states, options)
    }

    /// A model whose amplitude is the given TTN (any scale; it is canonicalised with
    /// centre at the root and normalised).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for invalid options, fewer than 3 sites,
    /// `d` outside `2..=256`, or the zero state.
    pub fn from_ttn(ttn: &Ttn<f64>, options: BornOptions) -> Result<Self> {
        options.validate()?;
        check_num_states(ttn.phys_dim())?;
        if ttn.num_sites() < 3 {
            return Err(Error::invalid_argument(
                "ttn",
                format!(
                    "a TTN Born machine needs at least 3 sites (got {})",
                    ttn.num_sites()
                ),
            ));
        }
        let mut t = ttn.clone();
        t.canonicalize(t.tree().root())?;
        if t.log_scale == f64::NEG_INFINITY {
            return Err(Error::invalid_argument(
                "ttn",
                "the zero state has no distribution",
            ));
        }
        t.log_scale = 0.0;
        Ok(TtnBornMachine { ttn: t, options })
    }

    /// The amplitude as a [`Ttn`] (norm 1, centre at [`TtnBornMachine::center`]).
    pub fn ttn(&self) -> &Ttn<f64> {
        &self.ttn
    }

    /// The tree.
    pub fn tree(&self) -> &Tree {
        self.ttn.tree()
    }

    /// The number of sites `N`.
    pub fn num_sites(&self) -> usize {
        self.ttn.num_sites()
    }

    /// The number of states `d` per site.
    pub fn num_states(&self) -> usize {
        self.ttn.phys_dim()
    }

    /// The node tensors `T_v[parent, left, right]`.
    pub fn tensors(&self) -> &[Array3<f64>] {
        self.ttn.tensors()
    }

    /// The orthogonality centre (the root outside of training).
    pub fn center(&self) -> usize {
        self.ttn.center().unwrap_or(self.tree().root())
    }

    /// The parent-bond dimension of every node (1 at the root).
    pub fn bond_dims(&self) -> Vec<usize> {
        self.ttn.bond_dims()
    }

    /// The largest bond dimension.
    pub fn max_bond(&self) -> usize {
        self.ttn.max_bond()
    }

    /// `ln Z = ln ||T_c||_F^2` (0 up to rounding).
    pub(crate) fn log_z(&self) -> f64 {
        checks::log_sq_norm(&self.ttn.tensors[self.center()])
    }

    /// `ln p(x)` for every row of `samples` (`n x N`): upward messages, one GEMM per
    /// node for the whole batch (errors: another number of sites, or a value `>= d`,
    /// naming sample and site).
    pub fn log_probs(&self, samples: ArrayView2<'_, u8>) -> Result<Vec<f64>> {
        check_samples(samples, self.num_sites(), self.num_states(), "samples")?;
        Ok(self.log_probs_unchecked(samples))
    }

    pub(crate) fn log_probs_unchecked(&self, samples: ArrayView2<'_, u8>) -> Vec<f64> {
        let root = root_message(&self.ttn, samples);
        let lz = self.log_z();
        root.logs
            .iter()
            .zip(root.vecs.column(0))
            .map(|(&l, &v)| {
                if v == 0.0 || l == f64::NEG_INFINITY {
                    f64::NEG_INFINITY
                } else {
                    2.0 * (l + v.abs().ln()) - lz
                }
            })
            .collect()
    }

    /// The TTN with the centre at the root (borrowed when already so).
    pub(crate) fn root_canonical(&self) -> Result<std::borrow::Cow<'_, Ttn<f64>>> {
        if self.ttn.center() == Some(self.tree().root()) {
            Ok(std::borrow::Cow::Borrowed(&self.ttn))
        } else {
            let mut t = self.ttn.clone();
            t.move_center(t.tree().root())?;
            t.log_scale = 0.0;
            Ok(std::borrow::Cow::Owned(t))
        }
    }
}

/// The root's upward message for a batch: one Khatri-Rao GEMM per node, in post
/// order (a child's message is dropped once its parent has it). The `n x 1` result
/// with its log scales is `psi(x) / exp(log_scale)`.
pub(crate) fn root_message(ttn: &Ttn<f64>, samples: ArrayView2<'_, u8>) -> Msgs {
    let tree = ttn.tree();
    let d = ttn.phys_dim();
    let mut up: Vec<Option<Msgs>> = vec![None; tree.num_nodes()];
    for &v in tree.post_order() {
        let [l, r] = tree.children(v);
        let mut take = |c: Child| match c {
            Child::Site(s) => Msgs::site(samples.column(s), d),
            Child::Node(u) => up[u].take().expect("children before parents"),
        };
        let (ml, mr) = (take(l), take(r));
        up[v] = Some(node_message(&ttn.tensors[v], 0, &ml, &mr));
    }
    up[tree.root()]
        .take()
        .expect("the root is last in post order")
}

impl std::fmt::Display for TtnBornMachine {
    /// A one-paragraph summary: sites, states, nodes, bonds, parameters, centre.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let params: usize = self.tensors().iter().map(|t| t.len()).sum();
        write!(
            f,
            "TTN Born machine: {} sites with {} states each, {} nodes, max bond {}, \
             {params} parameters, centre at node {}{}",
            self.num_sites(),
            self.num_states(),
            self.tree().num_nodes(),
            self.max_bond(),
            self.center(),
            if self.center() == self.tree().root() {
                " (the root)"
            } else {
                ""
            }
        )
    }
}
