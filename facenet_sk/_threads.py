"""How many torch threads a fit or a prediction may use when ``n_threads`` is None.

Outside Dask, torch's own setting is left alone. Inside a task on a Dask
worker, the task uses the threads its worker gives it: a worker with
``nthreads`` threads runs up to ``nthreads`` tasks at once, so each gets
``nthreads // tasks_at_once`` torch threads -- one by default, more when the
task's resource restrictions (``parallel_config(backend="dask",
resources={...})``) let fewer tasks run at once. The threads of all the tasks
of a worker then add up to no more than its ``nthreads``.

``distributed`` is looked up only when it is already imported (a process
that runs Dask tasks has imported it), so facenet_sk never imports it.
"""

import sys


def dask_task_threads():
    """Torch threads for the running Dask task, or None outside a Dask task."""
    if "distributed" not in sys.modules:
        return None
    try:
        from distributed import get_worker
        from distributed.worker import thread_state

        worker = get_worker()
        nthreads = int(worker.state.nthreads)
    except (ImportError, ValueError, AttributeError):
        return None
    at_once = nthreads
    task = worker.state.tasks.get(getattr(thread_state, "key", None))
    restrictions = getattr(task, "resource_restrictions", None) or {}
    for resource, needed in restrictions.items():
        total = worker.state.total_resources.get(resource, 0)
        if needed > 0:
            at_once = min(at_once, int(total // needed))
    return max(1, nthreads // max(1, at_once))
