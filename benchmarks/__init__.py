"""Benchmarks that print figures (never assert): API economy, rate-limit use, import
throughput and end to end, each against a baseline measured in the same run.

``python -m benchmarks`` runs all four; see ``benchmarks/__main__.py``.
"""
