"""The merchant event log: one row per change merchants' systems care about (see models.py)."""
