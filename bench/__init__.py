"""Benchmarks: ``python -m bench NAME [--full]`` prints one JSON line; ``python -m bench all``."""
