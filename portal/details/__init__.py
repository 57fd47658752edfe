"""My details: the client's own details by section (as the office configured the fields),
contact preferences and the co-applicant among them, in HTML and JSON; and the code that
confirms a new sign-in email or mobile (portal/details/contact_changes.py)."""
