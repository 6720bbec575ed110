//! [`PlanCache`]: compiled [`ContractionPlan`]s keyed by specification and operand
//! shapes, for code that runs the same few contractions many times.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::{ContractionPlan, PathOptimizer, Tensor};

/// One cached plan with its full key (specification and operand shapes, the
/// shapes flattened with their orders), so a lookup compares without allocating.
struct Entry {
    spec: Box<str>,
    orders: Box<[usize]>,
    dims: Box<[usize]>,
    plan: Arc<ContractionPlan>,
}

impl Entry {
    fn matches<T: Scalar>(&self, spec: &str, operands: &[&Tensor<T>]) -> bool {
        if *self.spec != *spec || self.orders.len() != operands.len() {
            return false;
        }
        let mut at = 0;
        for (t, &n) in operands.iter().zip(self.orders.iter()) {
            if t.shape().len() != n || self.dims[at..at + n] != *t.shape() {
                return false;
            }
            at += n;
        }
        true
    }
}

/// A 64-bit hash of (specification, operand shapes), computed without allocating
/// (a multiply-rotate mix in the style of rustc's FxHash: the keys are not
/// adversarial, and a collision only costs a comparison).
fn key_hash<T: Scalar>(spec: &str, operands: &[&Tensor<T>]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mix = |h: u64, x: u64| (h.rotate_left(5) ^ x).wrapping_mul(K);
    let mut h = spec.len() as u64;
    let mut chunks = spec.as_bytes().chunks_exact(8);
    for c in &mut chunks {
        h = mix(h, u64::from_le_bytes(c.try_into().expect("8 bytes")));
    }
    let mut last = [0u8; 8];
    last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h = mix(h, u64::from_le_bytes(last));
    for t in operands {
        h = mix(h, t.shape().len() as u64);
        for &d in t.shape() {
            h = mix(h, d as u64);
        }
    }
    h
}

/// A thread-safe cache of [`ContractionPlan`]s keyed by (specification, operand
/// shapes): [`run`](PlanCache::run) compiles a plan the first time a key is seen
/// (with [`PathOptimizer::Auto`]) and reuses it afterwards, so repeated
/// contractions cost a hash lookup (no allocation, no parsing, no path
/// optimisation) instead of planning. Cloning gives an empty cache.
///
/// ```
/// use tnlearn::tensor::PlanCache;
/// use tnlearn::Tensor;
/// let cache = PlanCache::default();
/// let a = Tensor::<f64>::ones(&[2, 3]);
/// for _ in 0..3 {
///     let c = cache.run("ij,kj->ik", &[&a, &a]).unwrap();
///     assert_eq!(c.as_slice(), &[3.0; 4]);
/// }
/// assert_eq!(cache.len(), 1);
/// ```
#[derive(Default)]
pub struct PlanCache {
    plans: RwLock<HashMap<u64, Vec<Entry>>>,
}

impl Clone for PlanCache {
    fn clone(&self) -> Self {
        PlanCache::default()
    }
}

impl std::fmt::Debug for PlanCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PlanCache({} plans)", self.len())
    }
}

impl PlanCache {
    /// Contracts `operands` by `spec`, compiling (once) and caching the plan.
    ///
    /// # Errors
    /// As [`ContractionPlan::new`] and [`ContractionPlan::execute`].
    pub fn run<T: Scalar>(&self, spec: &str, operands: &[&Tensor<T>]) -> Result<Tensor<T>> {
        self.plan(spec, operands)?.execute(operands)
    }

    /// The cached plan for `spec` on operands of the shapes of `operands`, compiled
    /// (with [`PathOptimizer::Auto`]) and cached on first use. Holding the plan lets
    /// a caller run it many times without even the lookup.
    ///
    /// # Errors
    /// As [`ContractionPlan::new`].
    pub fn plan<T: Scalar>(
        &self,
        spec: &str,
        operands: &[&Tensor<T>],
    ) -> Result<Arc<ContractionPlan>> {
        let h = key_hash(spec, operands);
        let found = self.plans.read().ok().and_then(|p| {
            p.get(&h)?
                .iter()
                .find(|e| e.matches(spec, operands))
                .map(|e| Arc::clone(&e.plan))
        });
        if let Some(plan) = found {
            return Ok(plan);
        }
        let shapes: Vec<&[usize]> = operands.iter().map(|t| t.shape()).collect();
        let plan = Arc::new(ContractionPlan::new(spec, &shapes, PathOptimizer::Auto)?);
        if let Ok(mut p) = self.plans.write() {
            let bucket = p.entry(h).or_default();
            // Another thread may have compiled the same key meanwhile.
            if !bucket.iter().any(|e| e.matches(spec, operands)) {
                bucket.push(Entry {
                    spec: spec.into(),
                    orders: shapes.iter().map(|s| s.len()).collect(),
                    dims: shapes.iter().flat_map(|s| s.iter().copied()).collect(),
                    plan: Arc::clone(&plan),
                });
            }
        }
        Ok(plan)
    }

    /// Number of cached plans.
    pub fn len(&self) -> usize {
        self.plans
            .read()
            .map(|p| p.values().map(Vec::len).sum())
            .unwrap_or(0)
    }

    /// `true` when no plan is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
