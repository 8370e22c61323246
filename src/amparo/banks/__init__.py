"""Hash banks: management on top of the store, import/export formats."""
