"""The fault suite (``make faults``): real workers under real faults. Not part of ``make test``."""
