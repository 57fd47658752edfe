"""Default configuration and demo data."""
