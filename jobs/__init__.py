"""RQ jobs. Each takes ids and plain values, reloads what it needs inside an app context (the
worker provides it), calls a service, and commits: one unit of work per job."""
