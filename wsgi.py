"""WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi ...``."""

import sys

from app import ConfigError, create_app

try:
    app = create_app()
except ConfigError as error:
    sys.exit(f"portico: configuration error: {error}")
