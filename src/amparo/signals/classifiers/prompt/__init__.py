"""The request gate: classifies prompts and edit requests (see gate.py for the public API)."""
