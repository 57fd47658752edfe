"""Security headers on every response, with a per-request CSP nonce for inline scripts.

The portal and the public pages get the strict policy (no inline script or style at all). The
staff panel gets the same policy plus the few inline event handlers Flask-Admin's templates use,
allowed one by one by their hash rather than by ``'unsafe-inline'``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from flask import Flask, Response, g, request

#: Inline event handlers left in Flask-Admin's bootstrap4 templates (the list's delete
#: confirmation, the filter menu, "Add contact" on the record form); the actions menu has its
#: own template without any.
ADMIN_INLINE_HANDLERS = (
    "return faHelpers.safeConfirm('Are you sure you want to delete this record?');",
    "return false;",
    "faForm.addInlineField(this, 'contacts');",
)


def csp_nonce() -> str:
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def _sha256(source: str) -> str:
    digest = hashlib.sha256(source.encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


_ADMIN_HASHES = " ".join(_sha256(handler) for handler in ADMIN_INLINE_HANDLERS)


def content_security_policy(path: str, nonce: str, frame_ancestors: str = "'none'") -> str:
    admin = path.startswith("/admin")
    script = f"'self' 'nonce-{nonce}'"
    style = "'self'"
    if admin:
        script += f" 'unsafe-hashes' {_ADMIN_HASHES}"
        # Flask-Admin and Select2 set inline style attributes from their scripts.
        style = "'self' 'unsafe-inline'"
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src {script}",
            f"style-src {style}",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        )
    )


def init_headers(app: Flask) -> None:
    production = app.config["PORTICO_ENV"] == "production"
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        # A page that may be shown in a frame (a journey on the sites allowed to embed it)
        # names who may frame it in g.frame_ancestors; every other page: nobody.
        ancestors = g.get("frame_ancestors") or "'none'"
        headers.setdefault(
            "Content-Security-Policy",
            content_security_policy(request.path, csp_nonce(), ancestors),
        )
        headers.setdefault("X-Content-Type-Options", "nosniff")
        if ancestors == "'none'":
            headers.setdefault("X-Frame-Options", "DENY")
        elif ancestors == "'self'":
            headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if production:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        endpoint = request.endpoint or ""
        if endpoint and not endpoint.endswith("static") and "Cache-Control" not in headers:
            # Pages carry personal data: keep them out of shared and back-button caches.
            headers["Cache-Control"] = "no-store"
        return response
