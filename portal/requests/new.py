"""Requests: new (being built)."""
