//! Swendsen's Monte Carlo renormalization group (MCRG): the thermal exponent `y_t` of
//! a coarse-graining, from data.
//!
//! 1. equilibrium configurations at `K_c` on an `L x L` torus (cluster Monte Carlo);
//! 2. each is blocked by the coarse-graining under test ([`CoarseGrain`];
//!    [`MajorityRule`] on 2 x 2 blocks with random tie-breaks is the classic baseline);
//! 3. on both levels the lattice sums of seven even operators are computed
//!    ([`EvenOperator`]: nearest neighbour, next-nearest, plaquette, (2,0), (2,1),
//!    (2,2) pairs, diamond);
//! 4. `A = <S^(1) S^(1)>_c`, `B = <S^(1) S^(0)>_c` (connected, [`Correlations`]);
//! 5. `T = A^{-1} B`, `y_t = ln lambda_max(T) / ln b`.
//!
//! Learned coarse-grainings on 2 x 2 blocks (one binary coarse spin per block):
//!
//! | rule | criterion |
//! |---|---|
//! | [`CoraRule`] | a draw from the Bayesian inverse of a trained CORA level |
//! | [`Rsmi`] | `h = sign(lambda . v)` maximising `I(H : E)` (Koch-Janusz and Ringel), estimated by [`estimate_mutual_information`] |
//! | [`KlOptimal`] | `P(h \| v) propto exp(h w . v)` minimising `D(p \|\| Y / sum Y)` (Chung and Kao) |
//! | [`BlockRule`] | any table `P(h = +1 \| v)` over the 16 block configurations |
//!
//! The exact value is `y_t = 1`; one majority-rule step 32 -> 16 gives
//! `0.9673 +- 0.0009` with 7 couplings (truncation of the RG flow to 7 couplings and
//! one step from a finite lattice). A learned coarse-graining plugs in by
//! implementing [`CoarseGrain`] and joining the list passed to [`measure`].
//!
//! ```
//! use tnlearn::ising::mcrg::{measure, CoarseGrain, MajorityRule, McrgOptions};
//! let majority = MajorityRule::new(2)?;
//! let list: Vec<&dyn CoarseGrain> = vec![&majority];
//! let options = McrgOptions::new().l(8).samples(2000).runs(2).couplings(2).burn_in(50);
//! let results = measure(&list, &options, &|_| {})?;
//! assert_eq!(results[0].y_t.len(), 2);
//! assert!(results[0].y_t[0] > 0.5 && results[0].y_t[0] < 1.5);
//! # Ok::<(), tnlearn::Error>(())
//! ```

mod block;
mod coarse;
mod cora_rule;
mod correlations;
mod kl_optimal;
mod measure;
mod operators;
mod rsmi;

pub use block::{block_index, block_spins, BlockRule, BLOCK_STATES};
pub use coarse::{check_configuration, CoarseGrain, MajorityRule};
pub use cora_rule::CoraRule;
pub use correlations::{Correlations, MAX_LATTICE_SUM, MAX_OPERATORS};
pub use kl_optimal::{KlCdOptions, KlOptimal};
pub use measure::{measure, McrgOptions, McrgResult, MAX_RUNS};
pub use operators::{lattice_sums, EvenOperator};
pub use rsmi::{estimate_mutual_information, MiEstimate, Rsmi, RsmiCandidate, RsmiOptions};
