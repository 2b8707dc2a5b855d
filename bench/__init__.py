"""Benchmarks: `make bench` runs `bench/run.py`, which prints ratios measured in one run."""
