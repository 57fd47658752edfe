"""E-signature: staff send a PDF for signature, the record's people sign it in the portal,
and a sealed signed PDF with an audit trail comes back.

Staff side: :mod:`.requests` (start, place fields, send, cancel, remind), :mod:`.sending` (the
emails and link tokens), :mod:`.reminders` (the sweeper's reminders and expiry),
:mod:`.saved_layouts` (layouts reused as templates), :mod:`.disclosures` (the versioned
Electronic Record and Signature Disclosure), :mod:`.layouts` (field places, checked),
:mod:`.pdf_files` (the PDF, checked and kept) and :mod:`.messages` (the system templates).
Views import the modules by name::

    from app.services.signing import requests as sign_requests

The modules load when first named (``__getattr__`` below), not with the package: the system
templates import :mod:`.messages`, and loading every module then would import the template
service back in a circle.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = [
    "access",
    "completion",
    "disclosures",
    "layouts",
    "messages",
    "pdf_files",
    "reminders",
    "requests",
    "saved_layouts",
    "sending",
    "signing",
    "signing_checks",
]


def __getattr__(name: str) -> ModuleType:
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
