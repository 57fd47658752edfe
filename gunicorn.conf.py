"""gunicorn's settings for Portico, read from the working directory by ``gunicorn wsgi:app``
(deploy/systemd/portico-web.service and the benchmarks run it from the repository); options
on the command line override them.

- ``preload_app``: the master imports the app once and forks the workers, which share its
  memory copy-on-write: each worker's own memory (USS) is about 45 MB instead of about
  120 MB (``python -m bench.portal`` prints RSS, PSS and USS per worker). The cost: a reload
  (HUP) forks new workers from the master's code, so deploying new code needs a restart.
- ``gc.freeze()`` before each fork: the collector would otherwise write to every object it
  scans in a worker and so copy the pages the worker shares with the master.
- ``max_requests`` with jitter: each worker is replaced after about 10,000 requests (a fork
  of the loaded master), so no slow leak can grow a worker without bound; the jitter keeps
  the workers from being replaced together. Not much sooner: a new worker compiles its
  templates and SQL statements again, and its first requests are the slow ones.
"""

import gc
from typing import Any

preload_app = True
max_requests = 10000
max_requests_jitter = 1000


def pre_fork(server: Any, worker: Any) -> None:
    gc.freeze()
