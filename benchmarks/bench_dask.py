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
    ``MALLOC_TRIM_THRESHOLD_`` unset,
(e) the same cluster with Dask's default worker environment, which sets
    ``MALLOC_TRIM_THRESHOLD_=65536``: glibc then stops adapting its mmap
    threshold, and torch's every large allocation would become a system
    call, were it not for the options facenet_sk sets during ``fit``.

Every pool first runs an untimed tiny search (processes started, modules
imported, torch's first calls made), so the times are those of the search
alone; the clusters' start-up is printed apart. With ``--repeats R`` the
five runs are interleaved R times and the median kept, so that the load of
other programs on a shared machine affects them alike. The table gives the
speed-ups over (a) and (b), and whether the scores equal those of (b): runs
at the same number of torch threads give bit-identical networks, runs at
different numbers only nearly identical ones (a CNN's sums are taken in
another order), which can move an accuracy.

Usage::

    python benchmarks/bench_dask.py              # one round (about 3 minutes on 2 cores)
    python benchmarks/bench_dask.py --repeats 3  # the median of 3 interleaved rounds
    python benchmarks/bench_dask.py --smoke      # tiny sizes, for CI
"""

import argparse
import contextlib
import os
import platform
import statistics
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


def _malloc_trim_threshold():
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


def _task_threads():
    from facenet_sk._threads import dask_task_threads

    return dask_task_threads()


def run_search(X, y, grid, args, n_jobs, n_threads=None):
    estimator = CNNClassifier(
        conv_filters=(8, 16),
        dense_units=32,
        max_epochs=args.epochs,
        batch_size=32,
        random_state=0,
        n_threads=n_threads,
    )
    search = GridSearchCV(
        estimator, grid, cv=args.cv, n_jobs=n_jobs, refit=False, error_score="raise"
    )
    start = time.perf_counter()
    search.fit(X, y)
    return time.perf_counter() - start, search.cv_results_["mean_test_score"]


def warm_up(n_jobs):
    """One untimed tiny search: starts the pool's processes, imports, first torch calls."""
    X, y = make_synthetic_faces(n_people=2, n_per_person=4, image_size=16, return_X_y=True)
    args = argparse.Namespace(epochs=1, cv=2)
    run_search(X.astype(np.float32) / 255, y, {"dropout": [0.0, 0.1]}, args, n_jobs)


def start_cluster(stack, n_workers, config):
    """A LocalCluster of single-thread workers started under ``config``, and its client."""
    import dask
    from distributed import Client, LocalCluster

    # The nannies read their pre-spawn variables when they are created.
    for key, value in config.items():
        if value is None:  # unset: not inherited from this process either
            os.environ.pop(key.rpartition(".")[2], None)
    start = time.perf_counter()
    with dask.config.set(config):
        cluster = stack.enter_context(
            LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=":0",
            )
        )
    client = stack.enter_context(Client(cluster, set_as_default=False))
    started = time.perf_counter() - start
    with parallel_config(backend="dask", client=client):
        warm_up(n_jobs=-1)
    return client, started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="processes of (c) and single-thread workers of (d), (e) (2)",
    )
    parser.add_argument("--n-per-person", type=int, default=60, help="images per person (60)")
    parser.add_argument("--image-size", type=int, default=32, help="image side (32)")
    parser.add_argument("--epochs", type=int, default=8, help="epochs per fit (8)")
    parser.add_argument("--cv", type=int, default=3, help="folds (3)")
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="interleaved rounds of the five runs; the median is kept (1)",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    args = parser.parse_args(argv)
    # The benchmark's own processes, and the workers it spawns (they inherit
    # the environment): networks train with glibc's malloc tuned.
    facenet_sk.allow_malloc_tuning()
    grid = GRID
    if args.smoke:
        args.n_per_person, args.image_size, args.epochs, args.cv = 6, 16, 1, 2
        args.repeats, grid = 1, SMOKE_GRID
    try:
        import dask
        import distributed  # noqa: F401  (and its configuration)
    except ImportError:
        parser.exit(1, "bench_dask.py needs dask: pip install 'facenet_sk[dask]'\n")

    faces = make_synthetic_faces(n_per_person=args.n_per_person, image_size=args.image_size)
    X, y = faces.images.astype(np.float32) / 255, faces.target
    n_candidates = int(np.prod([len(v) for v in grid.values()]))
    print(
        f"facenet_sk {facenet_sk.__version__}, torch {torch.__version__}; "
        f"{platform.node() or 'unknown'}: {os.cpu_count()} CPU(s), {platform.platform()}"
    )
    print(
        f"search: {n_candidates} candidates x {args.cv} folds = {n_candidates * args.cv} fits "
        f"of CNNClassifier(conv_filters=(8, 16), dense_units=32, max_epochs={args.epochs}) "
        f"on {len(y)} images {args.image_size}x{args.image_size}x3; "
        f"{args.repeats} round(s)",
        flush=True,
    )

    n = args.workers
    # A nanny writes its pre-spawn variables into this process's environment,
    # from where later workers would inherit them: put them back at the end.
    saved = {k: os.environ.get(k) for k in dask.config.get(PRE_SPAWN)}

    def restore_environ():  # (loky may start new workers later, from this environment)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    load_start = os.getloadavg()[0]
    try:
        with contextlib.ExitStack() as stack:
            warm_up(n_jobs=1)
            warm_up(n_jobs=n)
            loky_threads = max(Parallel(n_jobs=n)(delayed(_torch_threads)() for _ in range(n)))
            clusters = {}
            for key, config in (("d", {f"{PRE_SPAWN}.MALLOC_TRIM_THRESHOLD_": None}), ("e", {})):
                clusters[key] = start_cluster(stack, n, config)
                print(
                    f"  cluster ({key}) started in {clusters[key][1]:.1f} s (not counted)",
                    flush=True,
                )
            restore_environ()

            def cluster_pool(key):
                trim = clusters[key][0].submit(_malloc_trim_threshold, pure=False).result()
                return f"{n} workers x 1 thread, MALLOC_TRIM_THRESHOLD_={trim or 'unset'}"

            def on_cluster(key):
                client = clusters[key][0]
                with parallel_config(backend="dask", client=client, scatter=[X, y]):
                    return run_search(X, y, grid, args, n_jobs=-1)

            runs = [
                (
                    "(a) local, n_jobs=1",
                    "1 process",
                    torch.get_num_threads(),
                    lambda: run_search(X, y, grid, args, n_jobs=1),
                ),
                (
                    "(b) local, n_jobs=1, n_threads=1",
                    "1 process",
                    1,
                    lambda: run_search(X, y, grid, args, n_jobs=1, n_threads=1),
                ),
                (
                    f"(c) local, n_jobs={n} (loky)",
                    f"{n} processes",
                    loky_threads,
                    lambda: run_search(X, y, grid, args, n_jobs=n),
                ),
                (
                    f"(d) Dask LocalCluster, {n} workers",
                    cluster_pool("d"),
                    clusters["d"][0].submit(_task_threads, pure=False).result(),
                    lambda: on_cluster("d"),
                ),
                (
                    "(e) the same, Dask's default environ",
                    cluster_pool("e"),
                    clusters["e"][0].submit(_task_threads, pure=False).result(),
                    lambda: on_cluster("e"),
                ),
            ]
            times = {name: [] for name, *_ in runs}
            scores = {}
            for round_ in range(args.repeats):
                for name, _, _, run in runs:
                    seconds, scores[name] = run()
                    times[name].append(seconds)
                    print(f"  round {round_ + 1}, {name}: {seconds:.1f} s", flush=True)
    finally:
        restore_environ()

    median = {name: statistics.median(t) for name, t in times.items()}
    a_name, b_name = runs[0][0], runs[1][0]
    table = [
        [
            name,
            pool,
            threads,
            f"{median[name]:.1f}",
            f"{median[a_name] / median[name]:.2f}",
            f"{median[b_name] / median[name]:.2f}",
            "yes" if np.array_equal(scores[name], scores[b_name]) else "no",
        ]
        for name, pool, threads, _ in runs
    ]
    print(
        f"load average (1 min) at the start {load_start:.1f}, at the end "
        f"{os.getloadavg()[0]:.1f} (other programs' load slows the multi-thread run (a) most)"
    )
    print()
    print(
        tabulate(
            table,
            headers=[
                "run",
                "pool",
                "torch threads per fit",
                "seconds" if args.repeats == 1 else "median seconds",
                "speed-up vs (a)",
                "speed-up vs (b)",
                "same scores as (b)",
            ],
            tablefmt="github",
            disable_numparse=True,
            colalign=("left", "left", "right", "right", "right", "right", "left"),
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
