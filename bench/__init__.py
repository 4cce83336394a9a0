"""FactBot benchmarks: run each with ``python -m bench.<name>``, all with ``make bench``."""
