"""FakeME detection engine: faces -> crops -> EfficientNet-V2-S -> calibrated verdicts.

Plain Python (no Django imports) so it can be tested and used from the CLI alone.
"""

import os

# torch's OpenMP threads spin at every barrier while they wait. On shared cores (Celery worker
# processes side by side, FFmpeg's decoding threads) the spinning threads starve the one doing the
# work: with one of two cores busy elsewhere a 1080p photo scan took 7× longer (1.28 s, not 0.18 s).
# Sleeping waiters cost about a fifth on an idle machine (0.15 s, not 0.12 s; bench/omp_wait.py):
# we take the bounded cost. libgomp reads this once, when torch loads, so it is set on import of
# this package, which every FakeME process imports before torch; an operator's own value wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
