"""Benchmarks of iubledger against the bare eventsourcing library it is built on.

Run with ``python -m bench`` (see ``bench/__main__.py`` and ``docs/benchmarks.md``).
Benchmarks guide design and are reported; they are not tests and do not gate CI.
"""
