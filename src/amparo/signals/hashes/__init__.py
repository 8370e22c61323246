"""Built-in hash signal types."""
