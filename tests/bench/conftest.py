"""Keep the benchmark suite out of ``pytest`` runs: it is run by ``tests/bench/run.py``.

No file here is named ``test_*``, so pytest collects nothing from this folder anyway; this
says so explicitly, so a future ``python_files`` pattern cannot pull benchmarks (minutes of
load, timing-dependent verdicts) into the test suite.
"""

collect_ignore_glob = ["*.py"]
