"""Carry a verdict out: block/refuse, quarantine evidence, open a case, record attempts, queue reports."""
