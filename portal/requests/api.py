"""Requests: api (being built)."""
