"""Signing: the sign requests a client is asked to sign, listed under *Incoming requests*, and
the signing page itself (the disclosure to agree to, the pages with the signer's fields, the
signature drawn or typed, Finish or Decline). It opens for a signed-in client acting as one of
their own signers, or from the emailed link once its one-time code is typed, for that one
signer only (:mod:`.binding`). :mod:`.listing` describes the requests in the incoming list,
:mod:`.pages` is the signing page and what it posts, :mod:`.link` the emailed link. Every rule
(who may sign, when, what a signature may be) is the services' (:mod:`app.services.signing`);
these pages parse, call and render."""

from portal.signing import link, listing, pages  # noqa: F401
