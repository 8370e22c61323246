"""Signals: hashes and classifications computed from an item, with one registry of types."""
