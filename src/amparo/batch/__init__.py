"""Batch scanning of folders and collections."""
