"""FakeME detection engine: faces -> crops -> EfficientNet-V2-S -> calibrated verdicts.

Plain Python (no Django imports) so it can be tested and used from the CLI alone.
"""

import os

# torch's OpenMP threads spin at every barrier while they wait. On shared cores (a web worker beside
# a Celery worker, FFmpeg's decoding threads) the spinning threads starve the one doing the work:
# MTCNN on a 1080p photo took 1.16 s instead of 0.1 s with one of two cores busy elsewhere, and
# sleeping waiters cost nothing measurable on an idle machine (bench/omp_wait.py). libgomp reads
# this once, when torch loads, so it is set on import of this package, which every FakeME process
# imports before torch; an operator's own value wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
