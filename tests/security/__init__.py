"""Security regression suite: each test reproduces an attack found against Amparo (issue 14)."""
