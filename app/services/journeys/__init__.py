"""Self-service journeys at /f/<slug>: a visitor gives their name and email, proves the email
with an emailed PIN, goes through the journey's steps (forms, uploads, a signature, a review)
and ends with a sealed PDF of everything they did, on the record their email matched.

The modules, imported by name (this package re-exports nothing):

- :mod:`.definitions`: what admins save, checked, and the copy a session keeps of it;
- :mod:`.steps`: the step kinds registry (one class per kind);
- :mod:`.visitors`: the visitor's intents (start, PIN, steps, resume), with :mod:`.progress`,
  :mod:`.pins`, :mod:`.uploads` and :mod:`.sign_step` behind it;
- :mod:`.matching`: the record a verified email matches, or a new lead;
- :mod:`.completion`, :mod:`.abandoning`, :mod:`.funnel`, :mod:`.teams`: the end of a
  session, the ones left halfway, the figures staff see, and the teams' completion email.
"""
