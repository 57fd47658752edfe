"""Requests: the client's conversations with the office. *Incoming requests* staff sent,
the client's own requests (change requests and general requests of the admins' request
types), and *Contact us*; each a thread the client reads and answers with documents. The
pages (``pages``, ``new``) and the JSON routes (``api``) call :mod:`app.services.conversations`
and :mod:`app.services.request_types`; which conversations an account sees is the services'
one rule, and anything else answers 404."""

from portal.requests import api, new, pages  # noqa: F401
