"""Requests: the pages (being built: the thread page's address is already what messages link to)."""

from __future__ import annotations

from typing import Any

from flask import abort

from portal.navigation import client_screen


def request_thread(conversation_id: int) -> Any:
    abort(404)


client_screen("/requests/<int:conversation_id>")(request_thread)
