"""Domain logic. Admin views, portal screens, the JSON API and jobs call these; nothing else
changes models. Services flush, the caller (request or job) commits."""
