"""Benchmarks and recall checks; run through make targets, not in the test suite."""
