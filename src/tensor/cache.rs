//! [`PlanCache`]: compiled [`ContractionPlan`]s keyed by specification and operand
//! shapes, for code that runs the same few contractions many times.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::error::Result;
use crate::scalar::Scalar;
use crate::tensor::{ContractionPlan, PathOptimizer, Tensor};

/// A plan's key: the einsum specification and the operand shapes.
type PlanKey = (String, Vec<Vec<usize>>);

/// A thread-safe cache of [`ContractionPlan`]s keyed by (specification, operand
/// shapes): [`run`](PlanCache::run) compiles a plan the first time a key is seen
/// (with [`PathOptimizer::Auto`]) and reuses it afterwards, so repeated
/// contractions cost a hash lookup instead of parsing and path optimisation.
/// Cloning gives an empty cache.
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
    plans: RwLock<HashMap<PlanKey, Arc<ContractionPlan>>>,
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
        let shapes: Vec<Vec<usize>> = operands.iter().map(|t| t.shape().to_vec()).collect();
        let key = (spec.to_string(), shapes);
        let found = self.plans.read().ok().and_then(|p| p.get(&key).cloned());
        let plan = match found {
            Some(p) => p,
            None => {
                let refs: Vec<&[usize]> = key.1.iter().map(Vec::as_slice).collect();
                let plan = Arc::new(ContractionPlan::new(spec, &refs, PathOptimizer::Auto)?);
                if let Ok(mut p) = self.plans.write() {
                    p.insert(key, Arc::clone(&plan));
                }
                plan
            }
        };
        plan.execute(operands)
    }

    /// Number of cached plans.
    pub fn len(&self) -> usize {
        self.plans.read().map(|p| p.len()).unwrap_or(0)
    }

    /// `true` when no plan is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
