//! The shape of a binary tree tensor network: [`Tree`], [`Child`].

use crate::error::{Error, Result};

/// What hangs below one of the two child legs of a node.
///
/// ```
/// use tnlearn::ttn::{Child, Tree};
///
/// // Three sites: node 1 joins sites 0 and 1, the root (node 0) joins node 1 and site 2.
/// let tree = Tree::new(vec![
///     [Child::Node(1), Child::Site(2)],
///     [Child::Site(0), Child::Site(1)],
/// ])?;
/// assert_eq!((tree.num_sites(), tree.root()), (3, 0));
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Child {
    /// Another node (by index).
    Node(usize),
    /// A site (a leaf carrying the physical index, e.g. a pixel), by index.
    Site(usize),
}

/// A full binary tree over `N >= 2` sites: `N - 1` internal nodes, each with a
/// parent leg and two child legs; every child is a node or a site, every site is
/// the child of exactly one node, and one node (the root) has no parent.
///
/// Builders: [`Tree::image`] (2D images, every subtree a rectangle),
/// [`Tree::balanced`] (1D sequences), [`Tree::chain`] (the "caterpillar", an MPS
/// in disguise) and [`Tree::new`] (any tree, validated).
///
/// ```
/// use tnlearn::ttn::{Child, Tree};
/// let t = Tree::image(28, 28)?;
/// assert_eq!((t.num_sites(), t.num_nodes()), (784, 783));
/// assert_eq!(t.depth(), 10);
/// // A hand-made tree over 3 sites: node 0 = (site 0, node 1), node 1 = (site 1, site 2).
/// let t = Tree::new(vec![[Child::Site(0), Child::Node(1)], [Child::Site(1), Child::Site(2)]])?;
/// assert_eq!(t.root(), 0);
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tree {
    children: Vec<[Child; 2]>,
    parent: Vec<Option<(usize, usize)>>,
    site_parent: Vec<(usize, usize)>,
    root: usize,
    post_order: Vec<usize>,
    leaf_order: Vec<usize>,
}

impl Tree {
    /// A tree given explicitly: `children[v]` are the (left, right) children of node
    /// `v`. Validated: at least one node; node indices `< children.len()`; the sites
    /// are exactly `0..N` with `N = children.len() + 1`, each used once; every node
    /// but one (the root) is the child of exactly one node; no cycles.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] (`children`) naming the node, site or cycle.
    pub fn new(children: Vec<[Child; 2]>) -> Result<Self> {
        let bad = |reason: String| Error::invalid_argument("children", reason);
        let nn = children.len();
        if nn == 0 {
            return Err(bad("a tree needs at least one node (two sites)".into()));
        }
        let ns = nn + 1;
        let mut parent = try_filled(nn, None, nn)?;
        let mut site_parent: Vec<Option<(usize, usize)>> = try_filled(ns, None, nn)?;
        for (v, ch) in children.iter().enumerate() {
            for (side, &c) in ch.iter().enumerate() {
                match c {
                    Child::Node(u) => {
                        if u >= nn {
                            return Err(bad(format!(
                                "node {v} has child node {u}, but there are only {nn} nodes"
                            )));
                        }
                        if u == v {
                            return Err(bad(format!("node {v} is its own child")));
                        }
                        if let Some((p, _)) = parent[u] {
                            return Err(bad(format!(
                                "node {u} is a child of both node {p} and node {v}"
                            )));
                        }
                        parent[u] = Some((v, side));
                    }
                    Child::Site(s) => {
                        if s >= ns {
                            return Err(bad(format!(
                                "node {v} has child site {s}, but a tree with {nn} nodes has \
                                 exactly {ns} sites (0..{ns})"
                            )));
                        }
                        if let Some((p, _)) = site_parent[s] {
                            return Err(bad(format!(
                                "site {s} is a child of both node {p} and node {v}"
                            )));
                        }
                        site_parent[s] = Some((v, side));
                    }
                }
            }
        }
        let roots: Vec<usize> = (0..nn).filter(|&v| parent[v].is_none()).collect();
        if roots.len() != 1 {
            return Err(bad(format!(
                "exactly one node must have no parent (the root); found {} such nodes {:?}",
                roots.len(),
                &roots[..roots.len().min(10)]
            )));
        }
        let root = roots[0];
        let site_parent = site_parent
            .into_iter()
            .enumerate()
            .map(|(s, p)| p.ok_or_else(|| bad(format!("site {s} is not a child of any node"))))
            .collect::<Result<Vec<_>>>()?;
        // Post order (children first) and leaf order, iteratively. Every node has at
        // most one parent, so the part reachable from the root is a tree; a node not
        // reached lies on a cycle (checked after the walk, in O(N)).
        let mut post_order: Vec<usize> = Vec::new();
        post_order.try_reserve_exact(nn).map_err(|_| too_many(nn))?;
        let mut leaf_order: Vec<usize> = Vec::new();
        leaf_order.try_reserve_exact(ns).map_err(|_| too_many(nn))?;
        let mut stack = vec![(root, 0usize)];
        while let Some((v, state)) = stack.pop() {
            if state < 2 {
                stack.push((v, state + 1));
                match children[v][state] {
                    Child::Node(u) => stack.push((u, 0)),
                    Child::Site(s) => leaf_order.push(s),
                }
            } else {
                post_order.push(v);
            }
        }
        if post_order.len() != nn {
            let mut seen = try_filled(nn, false, nn)?;
            for &v in &post_order {
                seen[v] = true;
            }
            let v = seen.iter().position(|&x| !x).unwrap_or(0);
            return Err(bad(format!("node {v} lies on a cycle")));
        }
        Ok(Tree {
            children,
            parent,
            site_parent,
            root,
            post_order,
            leaf_order,
        })
    }

    /// The tree of a `rows x cols` image (site `r * cols + c` is pixel `(r, c)`,
    /// row-major like [`Dataset`](crate::Dataset)): the image is split recursively,
    /// across the rows when the block has at least as many rows as columns and
    /// across the columns otherwise, each half getting `ceil` / `floor` of the side.
    /// Read bottom-up, neighbouring pixels are paired horizontally, then the pairs
    /// vertically, alternating, and every subtree covers a rectangle of the image.
    /// Sides that are not powers of two (28 x 28) give slightly uneven splits; no
    /// padding is used, so the likelihood is over the real pixels only.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `rows * cols < 2`.
    pub fn image(rows: usize, cols: usize) -> Result<Self> {
        let n = rows.checked_mul(cols).unwrap_or(0);
        if n < 2 {
            return Err(Error::invalid_argument(
                "rows, cols",
                format!("an image tree needs at least 2 pixels (got {rows} x {cols})"),
            ));
        }
        let mut children = Vec::new();
        reserve_nodes(&mut children, n - 1)?;
        build_rect(&mut children, 0..rows, 0..cols, cols);
        Self::new(children)
    }

    /// A balanced binary tree over a sequence of `n >= 2` sites: the range is split
    /// in halves recursively (`ceil` left), depth `ceil(log2 n)`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `n < 2`.
    pub fn balanced(n: usize) -> Result<Self> {
        if n < 2 {
            return Err(Error::invalid_argument(
                "n",
                format!("a tree needs at least 2 sites (got {n})"),
            ));
        }
        let mut children = Vec::new();
        reserve_nodes(&mut children, n - 1)?;
        build_range(&mut children, 0..n);
        Self::new(children)
    }

    /// The "caterpillar" over `n >= 2` sites: node `k` has children
    /// `(site k, node k+1)` for `k < n - 2`, and node `n - 2` has `(site n-2, site
    /// n-1)`. A TTN on this tree is an MPS (node `k` is site tensor `k`, with its
    /// parent leg as left bond); the root is node 0.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `n < 2`.
    pub fn chain(n: usize) -> Result<Self> {
        if n < 2 {
            return Err(Error::invalid_argument(
                "n",
                format!("a tree needs at least 2 sites (got {n})"),
            ));
        }
        let mut children = Vec::new();
        reserve_nodes(&mut children, n - 1)?;
        children.extend((0..n - 1).map(|k| {
            if k + 2 < n {
                [Child::Site(k), Child::Node(k + 1)]
            } else {
                [Child::Site(k), Child::Site(k + 1)]
            }
        }));
        Self::new(children)
    }

    /// The number of sites (leaves) `N`.
    pub fn num_sites(&self) -> usize {
        self.site_parent.len()
    }

    /// The number of internal nodes, `N - 1`.
    pub fn num_nodes(&self) -> usize {
        self.children.len()
    }

    /// The root node.
    pub fn root(&self) -> usize {
        self.root
    }

    /// The (left, right) children of node `v`.
    ///
    /// # Panics
    /// If `v >= num_nodes()`; see [`try_children`](Tree::try_children).
    pub fn children(&self, v: usize) -> [Child; 2] {
        self.children[v]
    }

    /// The (left, right) children of node `v`, or [`Error::InvalidArgument`] when
    /// `v` is not a node.
    pub fn try_children(&self, v: usize) -> Result<[Child; 2]> {
        self.check_node(v)?;
        Ok(self.children[v])
    }

    fn check_node(&self, v: usize) -> Result<()> {
        if v >= self.num_nodes() {
            return Err(Error::invalid_argument(
                "v",
                format!(
                    "node {v} does not exist (the tree has {} nodes)",
                    self.num_nodes()
                ),
            ));
        }
        Ok(())
    }

    /// All children lists, indexed by node.
    pub fn all_children(&self) -> &[[Child; 2]] {
        &self.children
    }

    /// The parent of node `v` and the side (0 left, 1 right) `v` hangs on; `None`
    /// for the root.
    ///
    /// # Panics
    /// If `v >= num_nodes()`; see [`try_parent`](Tree::try_parent).
    pub fn parent(&self, v: usize) -> Option<(usize, usize)> {
        self.parent[v]
    }

    /// [`parent`](Tree::parent), or [`Error::InvalidArgument`] when `v` is not a
    /// node.
    pub fn try_parent(&self, v: usize) -> Result<Option<(usize, usize)>> {
        self.check_node(v)?;
        Ok(self.parent[v])
    }

    /// The node site `s` hangs on and the side (0 left, 1 right).
    ///
    /// # Panics
    /// If `s >= num_sites()`; see [`try_site_parent`](Tree::try_site_parent).
    pub fn site_parent(&self, s: usize) -> (usize, usize) {
        self.site_parent[s]
    }

    /// [`site_parent`](Tree::site_parent), or [`Error::InvalidArgument`] when `s`
    /// is not a site.
    pub fn try_site_parent(&self, s: usize) -> Result<(usize, usize)> {
        if s >= self.num_sites() {
            return Err(Error::invalid_argument(
                "s",
                format!(
                    "site {s} does not exist (the tree has {} sites)",
                    self.num_sites()
                ),
            ));
        }
        Ok(self.site_parent[s])
    }

    /// The nodes in post order (both children before their parent; root last).
    pub fn post_order(&self) -> &[usize] {
        &self.post_order
    }

    /// The sites in depth-first order, left child first (the order of exact
    /// sampling).
    pub fn leaf_order(&self) -> &[usize] {
        &self.leaf_order
    }

    /// The largest number of nodes on a path from a site to the root (O(N): one
    /// pass over the nodes from the root down).
    pub fn depth(&self) -> usize {
        // Reverse post order visits every parent before its children.
        let mut level = vec![0usize; self.num_nodes()];
        let mut deepest = 0;
        for &v in self.post_order.iter().rev() {
            level[v] = self.parent[v].map_or(1, |(p, _)| level[p] + 1);
            deepest = deepest.max(level[v]);
        }
        deepest
    }

    /// The number of sites below every node (O(N), in post order).
    pub(crate) fn sites_below_counts(&self) -> Vec<usize> {
        let mut count = vec![0usize; self.num_nodes()];
        for &v in &self.post_order {
            count[v] = self.children[v]
                .iter()
                .map(|c| match *c {
                    Child::Site(_) => 1,
                    Child::Node(u) => count[u],
                })
                .sum();
        }
        count
    }

    /// The nodes on the path from `from` to `to`, both included.
    pub(crate) fn path(&self, from: usize, to: usize) -> Vec<usize> {
        let ancestors = |mut v: usize| {
            let mut a = vec![v];
            while let Some((p, _)) = self.parent[v] {
                v = p;
                a.push(v);
            }
            a
        };
        let (af, at) = (ancestors(from), ancestors(to));
        // Lowest common ancestor: the first node of af that is in at.
        let lca_pos_f = af
            .iter()
            .position(|v| at.contains(v))
            .expect("both paths end at the root");
        let lca = af[lca_pos_f];
        let lca_pos_t = at.iter().position(|&v| v == lca).expect("present");
        let mut path: Vec<usize> = af[..=lca_pos_f].to_vec();
        path.extend(at[..lca_pos_t].iter().rev());
        path
    }
}

/// A vector of `n` copies of `value`, allocated fallibly; the error names the
/// tree size (`nodes`).
fn try_filled<T: Clone>(n: usize, value: T, nodes: usize) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| too_many(nodes))?;
    v.resize(n, value);
    Ok(v)
}

/// Reserves room for `n` nodes, fallibly.
fn reserve_nodes(children: &mut Vec<[Child; 2]>, n: usize) -> Result<()> {
    children.try_reserve_exact(n).map_err(|_| too_many(n))
}

fn too_many(nodes: usize) -> Error {
    Error::invalid_argument(
        "n",
        format!(
            "a tree of {nodes} nodes ({} sites) cannot be allocated",
            nodes.saturating_add(1)
        ),
    )
}

/// Appends the nodes of the subtree over the rectangle and returns its top child.
fn build_rect(
    children: &mut Vec<[Child; 2]>,
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
    width: usize,
) -> Child {
    let (nr, nc) = (rows.len(), cols.len());
    if nr == 1 && nc == 1 {
        return Child::Site(rows.start * width + cols.start);
    }
    let v = children.len();
    children.push([Child::Site(0), Child::Site(0)]); // placeholder
    let (a, b) = if nr >= nc {
        let mid = rows.start + nr.div_ceil(2);
        (
            build_rect(children, rows.start..mid, cols.clone(), width),
            build_rect(children, mid..rows.end, cols, width),
        )
    } else {
        let mid = cols.start + nc.div_ceil(2);
        (
            build_rect(children, rows.clone(), cols.start..mid, width),
            build_rect(children, rows, mid..cols.end, width),
        )
    };
    children[v] = [a, b];
    Child::Node(v)
}

fn build_range(children: &mut Vec<[Child; 2]>, r: std::ops::Range<usize>) -> Child {
    if r.len() == 1 {
        return Child::Site(r.start);
    }
    let v = children.len();
    children.push([Child::Site(0), Child::Site(0)]);
    let mid = r.start + r.len().div_ceil(2);
    let a = build_range(children, r.start..mid);
    let b = build_range(children, mid..r.end);
    children[v] = [a, b];
    Child::Node(v)
}
