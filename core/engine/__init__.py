"""The job loop: submit, poll, reconcile, download; every step journaled before it is shown.

The engine is synchronous and thread-safe: the command line calls it directly, the desktop
app calls it from executor threads. Listeners hear about every job change (from whatever
thread made it); a failing listener never breaks the job loop.

:class:`Engine` (``front.py``) is the thin front, with the same public API as ever. Its roles,
each a module of this package:

- ``table``: the jobs in memory, the busy set (``_claim``/``_release``), listeners, and the one
  place a job changes (journal first, then memory, then listeners); gateway identity.
- ``keys``: the key guard (a refused key stops every call; a key's rate limit holds all jobs).
- ``base``: the gateway rules every role applies (answers, the two-strikes 404, failed reads).
- ``polling``: status reads and what is due when.
- ``reconcile`` with ``matching``: the search for a create whose answer was lost.
- ``downloads``: a completed job's bytes to disk, once, whichever process asks.
- ``actions``: what a person does (save, link, delete on the server, review, rate, keep).
"""

from core.engine.base import failure_from_error
from core.engine.downloads import DOWNLOAD_RETRY_SECONDS
from core.engine.front import Engine
from core.engine.table import ORPHANED_CREATE_AFTER
from core.wire import RemoteJob

__all__ = [
    "DOWNLOAD_RETRY_SECONDS",
    "ORPHANED_CREATE_AFTER",
    "Engine",
    "RemoteJob",
    "failure_from_error",
]
