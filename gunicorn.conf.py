"""gunicorn's settings for the web process (read from the working directory at start).

Under prometheus-client's multiprocess mode the web workers write their metrics to files
(docs/observability.md); a worker that exits is marked dead so that its live gauges stop
counting.
"""

import os
from typing import Any


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
