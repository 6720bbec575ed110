//! The `openblas` backend: system OpenBLAS (BLAS) and LAPACK through ndarray-linalg.
//! (Being filled in; see the linalg issue.)
