"""``make bench``: the serving path, bulk classification and the store's reads, measured.

A script, not a test: it prints one table of medians (p95 where the target asks for it) and
ratios, every comparison measured side by side in the same run. See ``benchmarks/README.md``.
"""
