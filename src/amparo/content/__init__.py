"""Decoding and normalisation of content, with limits on bad input."""
