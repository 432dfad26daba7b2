"""``[core] hostname_callable`` for the distributed tier's workers.

Two workers on one machine would record the same host name in their task instances;
each worker of the tier gets its own (``$DSOPS_TEST_WORKER_HOSTNAME``, e.g. ``w1@vm``),
as workers on separate machines would have.
"""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    return os.environ.get("DSOPS_TEST_WORKER_HOSTNAME") or socket.getfqdn()
