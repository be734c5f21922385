"""Benchmarks and their helpers (settings_bench, urls_bench, load); see README.md."""
