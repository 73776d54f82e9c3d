"""How many torch threads a fit or a prediction may use when ``n_threads`` is None.

Outside Dask, torch's own setting is left alone. Inside a task on a Dask
worker, the task uses one torch thread: a worker with ``nthreads`` threads
runs up to ``nthreads`` tasks at once, so one thread each keeps their sum
within the worker's share of the machine (torch would otherwise start one
thread per core in every task). A task that should use more (say, one task
per worker held back by resource restrictions) sets ``n_threads``.

Only Dask's public ``distributed.get_worker`` is used, and only when
``distributed`` is already imported (a process that runs Dask tasks has
imported it), so facenet_sk never imports it.
"""

import sys


def dask_task_threads():
    """1 inside a task on a Dask worker, None elsewhere.

    Examples
    --------
    >>> dask_task_threads() is None
    True
    """
    if "distributed" not in sys.modules:
        return None
    try:
        from distributed import get_worker

        get_worker()  # raises ValueError outside a task
    except (ImportError, ValueError):
        return None
    return 1
