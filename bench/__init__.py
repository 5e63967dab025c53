"""FakeME's benchmarks. Each is a module run from the checkout's root, e.g. ``python -m bench.detect``
(``make bench``) or ``python -m bench.scan_api`` (``make bench-scan``); ``--help`` lists its options.
Most rewrite their own section of ``docs/benchmarks.md`` (``bench.common.Section``).

Nothing is imported here: a benchmark's child process may set ``OMP_WAIT_POLICY`` before torch loads.
"""
