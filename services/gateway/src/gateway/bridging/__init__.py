"""Bridges across nodes: link legs, per-node members, and the single bridge an app sees."""
