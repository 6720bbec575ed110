//! Discrete data sets for generative models: [`Dataset`], and the binarized MNIST
//! subset that ships with the crate ([`mnist::shipped`]).
//!
//! A data set is a matrix of `n_samples x n_sites` small integers, each below
//! `num_states` (2 for binary data), with optional labels and an optional image shape
//! for display. Files are read by the functions in [`crate::io`].
//!
//! Module dependencies go one way: `io` depends on `data` (its readers return
//! [`Dataset`]s), never the reverse. The `TNLBITS` codec used by the shipped data set
//! therefore lives in `data` (private module `packed`) and is re-exported by
//! [`crate::io::packed`].

pub mod mnist;
pub(crate) mod packed;

use ndarray::{Array2, ArrayView1, ArrayView2, Axis};

use crate::error::{Error, Result};

/// A set of discrete samples: `n_samples x n_sites` values, each `< num_states`.
///
/// The invariants (every value below `num_states`, one label per sample, an image
/// shape whose area is `n_sites`) are checked by the constructors, so a model can
/// index its tensors with the values without checking again.
///
/// ```
/// use ndarray::array;
/// use tnlearn::data::Dataset;
///
/// let data = Dataset::binary(array![[0, 1, 1, 0], [1, 1, 0, 0]])?
///     .with_labels(vec![3, 7])?
///     .with_image_shape((2, 2))?;
/// assert_eq!(data.len(), 2);
/// assert_eq!(data.num_sites(), 4);
/// assert_eq!(data.take(1).labels(), Some(&[3u8][..]));
/// # Ok::<(), tnlearn::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    samples: Array2<u8>,
    num_states: usize,
    labels: Option<Vec<u8>>,
    image_shape: Option<(usize, usize)>,
}

impl Dataset {
    /// A data set of `samples` (one row per sample, one column per site) whose values
    /// are in `0..num_states`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `num_states` is not in `2..=256`, or if a value
    /// is `>= num_states` (the message names the first such sample and site).
    pub fn new(samples: Array2<u8>, num_states: usize) -> Result<Self> {
        if !(2..=256).contains(&num_states) {
            return Err(Error::invalid_argument(
                "num_states",
                format!("must be in 2..=256 (values are stored as u8), got {num_states}"),
            ));
        }
        if let Some(((sample, site), &value)) = samples
            .indexed_iter()
            .find(|(_, &v)| usize::from(v) >= num_states)
        {
            return Err(Error::invalid_argument(
                "samples",
                format!(
                    "sample {sample}, site {site} has value {value}, \
                     but values must be < num_states = {num_states}"
                ),
            ));
        }
        Ok(Dataset {
            samples,
            num_states,
            labels: None,
            image_shape: None,
        })
    }

    /// A binary data set (`num_states = 2`): every value must be 0 or 1.
    ///
    /// # Errors
    /// As [`Dataset::new`].
    pub fn binary(samples: Array2<u8>) -> Result<Self> {
        Dataset::new(samples, 2)
    }

    /// Attaches one label per sample (e.g. the digit of an MNIST image).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `labels.len() != self.len()`.
    pub fn with_labels(mut self, labels: Vec<u8>) -> Result<Self> {
        if labels.len() != self.len() {
            return Err(Error::shape_mismatch(
                "Dataset::with_labels (one label per sample)",
                [self.len()],
                [labels.len()],
            ));
        }
        self.labels = Some(labels);
        Ok(self)
    }

    /// Removes the labels, if any.
    pub fn without_labels(mut self) -> Self {
        self.labels = None;
        self
    }

    /// Declares that each sample is a `(rows, cols)` image stored row-major
    /// (site `r * cols + c` is pixel `(r, c)`).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `rows * cols != self.num_sites()`.
    pub fn with_image_shape(mut self, (rows, cols): (usize, usize)) -> Result<Self> {
        if rows.checked_mul(cols) != Some(self.num_sites()) {
            return Err(Error::shape_mismatch(
                "Dataset::with_image_shape (rows * cols must equal n_sites)",
                [self.num_sites()],
                [rows, cols],
            ));
        }
        self.image_shape = Some((rows, cols));
        Ok(self)
    }

    /// The samples, `n_samples x n_sites`.
    pub fn samples(&self) -> ArrayView2<'_, u8> {
        self.samples.view()
    }

    /// Consumes the data set and returns its sample matrix.
    pub fn into_samples(self) -> Array2<u8> {
        self.samples
    }

    /// Sample `i` as a row of `n_sites` values.
    ///
    /// # Panics
    /// If `i >= self.len()` (like slice indexing).
    pub fn sample(&self, i: usize) -> ArrayView1<'_, u8> {
        self.samples.row(i)
    }

    /// The number of states per site (2 for binary data).
    pub fn num_states(&self) -> usize {
        self.num_states
    }

    /// The labels, one per sample, if the data set has them.
    pub fn labels(&self) -> Option<&[u8]> {
        self.labels.as_deref()
    }

    /// The image shape `(rows, cols)`, if the samples are images.
    pub fn image_shape(&self) -> Option<(usize, usize)> {
        self.image_shape
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.samples.nrows()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of sites (variables) per sample, e.g. 784 for 28 x 28 images.
    pub fn num_sites(&self) -> usize {
        self.samples.ncols()
    }

    /// The former name of [`Dataset::num_sites`].
    #[deprecated(
        since = "0.2.0",
        note = "use `Dataset::num_sites`, the name used everywhere else"
    )]
    pub fn n_sites(&self) -> usize {
        self.num_sites()
    }

    /// The mean value over all samples and sites; for binary data, the fraction of
    /// ones ("pixel density"). 0 for an empty data set.
    pub fn mean_value(&self) -> f64 {
        if self.samples.is_empty() {
            return 0.0;
        }
        let sum: u64 = self.samples.iter().map(|&v| u64::from(v)).sum();
        sum as f64 / self.samples.len() as f64
    }

    /// The samples at the given positions, in that order (repeats allowed), with
    /// their labels and the same image shape. Accepts a range (`0..100`), a `Vec`,
    /// or any iterator of positions (`indices.iter().copied()`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if a position is `>= self.len()`.
    pub fn subset(&self, indices: impl IntoIterator<Item = usize>) -> Result<Self> {
        let indices: Vec<usize> = indices.into_iter().collect();
        if let Some((k, &i)) = indices.iter().enumerate().find(|(_, &i)| i >= self.len()) {
            return Err(Error::invalid_argument(
                "indices",
                format!(
                    "position {k} of the index list is {i}, but the data set has {} samples",
                    self.len()
                ),
            ));
        }
        Ok(Dataset {
            samples: self.samples.select(Axis(0), &indices),
            num_states: self.num_states,
            labels: self
                .labels
                .as_ref()
                .map(|l| indices.iter().map(|&i| l[i]).collect()),
            image_shape: self.image_shape,
        })
    }

    /// The first `min(n, self.len())` samples.
    pub fn take(&self, n: usize) -> Self {
        let n = n.min(self.len());
        Dataset {
            samples: self.samples.slice(ndarray::s![..n, ..]).to_owned(),
            num_states: self.num_states,
            labels: self.labels.as_ref().map(|l| l[..n].to_vec()),
            image_shape: self.image_shape,
        }
    }

    /// The `rank`-th of `size` contiguous blocks of nearly equal length (the first
    /// `n mod size` blocks one sample longer): rows `rank q + min(rank, r)` up to
    /// the next block's start, `q = n / size`, `r = n mod size`. The blocks in rank
    /// order are the data set, so a distributed fit on the shards
    /// ([`MpsBornMachine::fit_distributed_with`](crate::born::MpsBornMachine::fit_distributed_with))
    /// trains on exactly this data set. Labels and image shape are kept.
    ///
    /// ```
    /// use tnlearn::Dataset;
    ///
    /// let data = Dataset::binary(ndarray::Array2::zeros((5, 3)))?;
    /// let lens: Vec<usize> = (0..2).map(|r| data.shard(r, 2).map(|s| s.len())).collect::<Result<_, _>>()?;
    /// assert_eq!(lens, [3, 2]);
    /// assert!(data.shard(0, 6).is_err()); // more ranks than samples
    /// # Ok::<(), tnlearn::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming `size` if it is 0 or larger than the number
    /// of samples (a rank would get none), naming `rank` if `rank >= size`.
    pub fn shard(&self, rank: usize, size: usize) -> Result<Self> {
        let n = self.len();
        if size == 0 || size > n {
            return Err(Error::invalid_argument(
                "size",
                format!(
                    "{size} shards of a data set of {n} samples: every rank needs at least \
                     one sample (use at most {n} ranks)"
                ),
            ));
        }
        if rank >= size {
            return Err(Error::invalid_argument(
                "rank",
                format!("rank {rank} of {size} ranks (ranks are 0..{size})"),
            ));
        }
        let (q, r) = (n / size, n % size);
        let start = |k: usize| k * q + k.min(r); // <= n: no overflow
        self.subset(start(rank)..start(rank + 1))
    }

    /// The former name of [`Dataset::filter_label`] (which filters, while
    /// [`Dataset::with_labels`] attaches labels).
    #[deprecated(since = "0.2.0", note = "use `Dataset::filter_label`")]
    pub fn with_label(&self, label: u8) -> Self {
        self.filter_label(label)
    }

    /// The samples whose label is `label`, in their original order (empty if the data
    /// set has no labels).
    pub fn filter_label(&self, label: u8) -> Self {
        let indices: Vec<usize> = match &self.labels {
            Some(l) => (0..self.len()).filter(|&i| l[i] == label).collect(),
            None => Vec::new(),
        };
        // Every index is in range by construction.
        Dataset {
            samples: self.samples.select(Axis(0), &indices),
            num_states: self.num_states,
            labels: self.labels.as_ref().map(|_| vec![label; indices.len()]),
            image_shape: self.image_shape,
        }
    }
}

/// An `n x sites` array of zeros, allocated fallibly: an overflowing or
/// unsatisfiable size is an [`Error::InvalidArgument`] naming `param`, not an abort.
pub(crate) fn try_zeros_u8(n: usize, sites: usize, param: &str) -> Result<Array2<u8>> {
    let too_big = |detail: String| {
        Error::invalid_argument(
            param,
            format!("{n} samples of {sites} sites: {detail}; ask for fewer samples"),
        )
    };
    let len = n
        .checked_mul(sites)
        .filter(|&len| len <= isize::MAX as usize)
        .ok_or_else(|| too_big("the byte count overflows".into()))?;
    let mut v: Vec<u8> = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|e| too_big(format!("cannot allocate {len} bytes ({e})")))?;
    v.resize(len, 0);
    Array2::from_shape_vec((n, sites), v).map_err(|e| too_big(e.to_string()))
}
