"""Offline data the notebooks generate or load: one module per world, deterministic from a seed."""
