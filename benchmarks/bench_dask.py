"""Wall time of one hyper-parameter search: sequential, joblib processes, a Dask cluster.

The search is a GridSearchCV of 8 candidates (dropout x batchnorm x lr) of a
small CNN on synthetic faces, run five ways in one process:

(a) locally, ``n_jobs=1``: one fit at a time, with torch's default threads
    (one per core),
(b) locally, ``n_jobs=1`` with ``n_threads=1``: one fit at a time, one thread,
(c) locally, ``n_jobs=N``: joblib's loky processes (joblib gives each
    ``cpu_count // N`` threads),
(d) on a ``distributed.LocalCluster`` of N single-thread worker processes,
    under ``joblib.parallel_config(backend="dask", scatter=[X, y])``
    (facenet_sk gives each task its worker's one thread), with the workers'
    ``MALLOC_TRIM_THRESHOLD_`` unset as docs/cluster.rst advises,
(e) the same cluster with Dask's default worker environment, which sets
    ``MALLOC_TRIM_THRESHOLD_=65536``: glibc then stops adapting its mmap
    threshold, and torch's every large allocation becomes a system call.

Every pool first runs an untimed tiny search (processes started, modules
imported, torch's first calls made), so the times are those of the search
alone; the clusters' start-up is printed apart. The table gives the
speed-ups over (a) and (b), and whether the scores equal those of (b): runs
at the same number of torch threads give bit-identical networks, runs at
different numbers only nearly identical ones (a CNN's sums are taken in
another order), which can move an accuracy.

Usage::

    python benchmarks/bench_dask.py              # the full run (2-3 minutes on 2 idle cores)
    python benchmarks/bench_dask.py --smoke      # tiny sizes, for CI
"""

import argparse
import os
import platform
import time

import numpy as np
import torch
from joblib import Parallel, delayed, parallel_config
from sklearn.model_selection import GridSearchCV
from tabulate import tabulate

import facenet_sk
from facenet_sk import CNNClassifier
from facenet_sk.datasets import make_synthetic_faces

GRID = {"dropout": [0.0, 0.3], "batchnorm": [False, True], "lr": [1e-3, 3e-3]}
SMOKE_GRID = {"dropout": [0.0, 0.3]}
PRE_SPAWN = "distributed.nanny.pre-spawn-environ"


def _torch_threads():
    return torch.get_num_threads()


def _task_threads():
    from facenet_sk._threads import dask_task_threads

    return dask_task_threads()


def run_search(X, y, grid, args, n_jobs, n_threads=None):
    estimator = CNNClassifier(conv_filters=(8, 16), dense_units=32, max_epochs=args.epochs,
                              batch_size=32, random_state=0, n_threads=n_threads)
    search = GridSearchCV(estimator, grid, cv=args.cv, n_jobs=n_jobs, refit=False,
                          error_score="raise")
    start = time.perf_counter()
    search.fit(X, y)
    return time.perf_counter() - start, search.cv_results_["mean_test_score"]


def warm_up(n_jobs):
    """One untimed tiny search: starts the pool's processes, imports, first torch calls."""
    X, y = make_synthetic_faces(n_people=2, n_per_person=4, image_size=16, return_X_y=True)
    args = argparse.Namespace(epochs=1, cv=2)
    run_search(X.astype(np.float32) / 255, y, {"dropout": [0.0, 0.1]}, args, n_jobs)


def run_on_cluster(X, y, grid, args, n_workers, config):
    """(seconds, scores, torch threads per task, start-up seconds) on a fresh LocalCluster."""
    import dask
    from distributed import Client, LocalCluster

    # A nanny writes its pre-spawn variables into this process's environment,
    # from where every later worker would inherit them: put them back after.
    saved = {k: os.environ.get(k) for k in dask.config.get(PRE_SPAWN)}
    for key, value in config.items():
        if value is None:  # unset: not inherited from this process either
            os.environ.pop(key.rpartition(".")[2], None)
    start = time.perf_counter()
    try:
        with dask.config.set(config), \
                LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                             host="127.0.0.1", dashboard_address=None) as cluster, \
                Client(cluster) as client:
            started = time.perf_counter() - start
            with parallel_config(backend="dask"):
                warm_up(n_jobs=-1)
            task_threads = client.submit(_task_threads, pure=False).result()
            with parallel_config(backend="dask", scatter=[X, y]):
                seconds, scores = run_search(X, y, grid, args, n_jobs=-1)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return seconds, scores, task_threads, started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2,
                        help="processes of (c) and single-thread workers of (d), (e) (2)")
    parser.add_argument("--n-per-person", type=int, default=60, help="images per person (60)")
    parser.add_argument("--image-size", type=int, default=32, help="image side (32)")
    parser.add_argument("--epochs", type=int, default=8, help="epochs per fit (8)")
    parser.add_argument("--cv", type=int, default=3, help="folds (3)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    args = parser.parse_args(argv)
    grid = GRID
    if args.smoke:
        args.n_per_person, args.image_size, args.epochs, args.cv = 6, 16, 1, 2
        grid = SMOKE_GRID
    try:
        import distributed  # noqa: F401
    except ImportError:
        parser.exit(1, "bench_dask.py needs dask: pip install 'facenet_sk[dask]'\n")

    faces = make_synthetic_faces(n_per_person=args.n_per_person, image_size=args.image_size)
    X, y = faces.images.astype(np.float32) / 255, faces.target
    n_candidates = int(np.prod([len(v) for v in grid.values()]))
    print(f"facenet_sk {facenet_sk.__version__}, torch {torch.__version__}; "
          f"{platform.node() or 'unknown'}: {os.cpu_count()} CPU(s), {platform.platform()}")
    print(f"search: {n_candidates} candidates x {args.cv} folds = {n_candidates * args.cv} fits "
          f"of CNNClassifier(conv_filters=(8, 16), dense_units=32, max_epochs={args.epochs}) "
          f"on {len(y)} images {args.image_size}x{args.image_size}x3", flush=True)

    load_start = os.getloadavg()[0]
    rows = []

    def report(name, pool, threads, seconds, scores, note=""):
        rows.append([name, pool, threads, seconds, scores])
        print(f"  {name}: {seconds:.1f} s{note}", flush=True)

    warm_up(n_jobs=1)
    report("(a) local, n_jobs=1", "1 process", torch.get_num_threads(),
           *run_search(X, y, grid, args, n_jobs=1))
    report("(b) local, n_jobs=1, n_threads=1", "1 process", 1,
           *run_search(X, y, grid, args, n_jobs=1, n_threads=1))

    n = args.workers
    warm_up(n_jobs=n)
    threads = Parallel(n_jobs=n)(delayed(_torch_threads)() for _ in range(n))
    report(f"(c) local, n_jobs={n} (loky)", f"{n} processes", max(threads),
           *run_search(X, y, grid, args, n_jobs=n))

    for name, config in [
        (f"(d) Dask LocalCluster, {n} workers", {f"{PRE_SPAWN}.MALLOC_TRIM_THRESHOLD_": None}),
        (f"(e) the same, Dask's default environ", {}),
    ]:
        seconds, scores, task_threads, started = run_on_cluster(X, y, grid, args, n, config)
        report(name, f"{n} workers x 1 thread", task_threads, seconds, scores,
               f" (cluster start-up {started:.1f} s, not counted)")

    (a_seconds, _), (b_seconds, b_scores) = (row[3:] for row in rows[:2])
    table = [[name, pool, threads, f"{secs:.1f}", f"{a_seconds / secs:.2f}",
              f"{b_seconds / secs:.2f}", "yes" if np.array_equal(s, b_scores) else "no"]
             for name, pool, threads, secs, s in rows]
    print(f"load average (1 min) at the start {load_start:.1f}, at the end "
          f"{os.getloadavg()[0]:.1f} (other programs' load slows the multi-thread run (a) most)")
    print()
    print(tabulate(table, headers=["run", "pool", "torch threads per fit", "seconds",
                                   "speed-up vs (a)", "speed-up vs (b)",
                                   "same scores as (b)"],
                   tablefmt="github", colalign=("left", "left", "right", "right", "right",
                                                "right", "left")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
