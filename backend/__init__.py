"""oO server package."""

import os

# Piccolo finds its engine and apps through this module; set before any table is used.
os.environ.setdefault("PICCOLO_CONF", "backend.piccolo_conf")
# One OpenBLAS thread per process, set before numpy loads it. A pick multiplies small matrices
# (thousands of candidates × tens of columns), for which waking OpenBLAS's thread pool costs more
# than the product: 15 ms instead of 0.4 ms for a 48 × 43 by 43 × 2,000 product on a busy 2-core
# machine (docs/adr/0036). Concurrency comes from requests and processes, not from BLAS. Only
# OpenBLAS's own variable: OMP_NUM_THREADS would also bind a local model's OpenMP threads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
