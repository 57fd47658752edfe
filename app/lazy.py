"""Libraries a web worker does not need until a rare request or command needs them, imported on
first use instead of at start (issue 18): making and sealing PDFs (fpdf and fontTools, pyHanko,
pypdf, pypdfium2) and migrating (Flask-Migrate's Alembic) would otherwise cost every web
process about 60 MB before its first page.

This module is the one place where Portico imports late, with two tools:

- :func:`load` is a package's ``__getattr__`` (PEP 562): ``app/pdf/__init__.py`` names where
  each of its names lives, and ``pdf.seal`` imports ``app.pdf.sealing`` the first time it is
  read. So write ``from app import pdf`` and ``pdf.seal(...)``: ``from app.pdf import seal``
  and ``from app.pdf.sealing import ...`` import at once.
- :class:`Migrate` stands for Flask-Migrate's ``Migrate`` and imports it when something
  migrates: a ``flask db`` command, ``flask serve``, a test calling ``flask_migrate.upgrade()``.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click
from flask import Flask

__all__ = ["Migrate", "load"]


def load(package: str, name: str, where: dict[str, str]) -> Any:
    """``name`` of ``package``, imported from the module ``where`` names for it, then kept in
    the package so the next read is a plain attribute."""
    module = where.get(name)
    if module is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    setattr(sys.modules[package], name, value)
    return value


class Migrate:
    """Flask-Migrate's ``Migrate(app, db, **options)``, made when something first migrates.

    ``init_app`` puts a stand-in where Flask-Migrate looks for its settings
    (``app.extensions["migrate"]``) and registers ``flask db`` as a group that imports
    Flask-Migrate's own when the command runs; the first read of the stand-in makes the real
    ``Migrate``, which takes its place."""

    def init_app(self, app: Flask, db: Any, **options: Any) -> None:
        app.extensions["migrate"] = _Settings(app, db, options)
        app.cli.add_command(
            _Deferred("db", "flask_migrate.cli", help="Perform database migrations.")
        )


class _Settings:
    def __init__(self, app: Flask, db: Any, options: dict[str, Any]) -> None:
        self._made = (app, db, options)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        app, db, options = self._made
        importlib.import_module("flask_migrate").Migrate(app, db, **options)
        return getattr(app.extensions["migrate"], name)


class _Deferred(click.Group):
    """A command group that lives in ``module`` under its own name, imported when the command
    runs; ``flask --help`` lists it from its help alone."""

    def __init__(self, name: str, module: str, help: str) -> None:
        super().__init__(name, help=help)
        self.module = module

    def _real(self) -> click.Group:
        group: click.Group = getattr(importlib.import_module(self.module), str(self.name))
        return group

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        return self._real().make_context(*args, **kwargs)
