"""Insight: metrics, reports and the program simulator (read side)."""
