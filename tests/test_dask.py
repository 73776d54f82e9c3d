"""The networks on a Dask cluster: joblib's dask backend, scattering, threads, lost workers.

One local cluster of two worker processes (one thread each, restarted by
their nannies) serves the whole module. Its workers start with
OMP_NUM_THREADS=MKL_NUM_THREADS=2, so that torch would take two threads per
task on its own: the one thread seen during training is facenet_sk's doing.

Results are compared with a local sequential run at one torch thread, the
threads a task gets on these workers: a CNN's convolutions sum in an order
that depends on the number of threads, so only equal thread counts give
bit-identical weights (accuracies practically always agree anyway).
"""

import os
import signal
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from joblib import parallel_config
from scipy.stats import uniform
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, cross_validate
from skorch.callbacks import Callback

from facenet_sk import CNNClassifier, FCNetClassifier, compare_models
from facenet_sk._base import torch_threads
from facenet_sk._threads import dask_task_threads
from facenet_sk.cli import main
from facenet_sk.datasets import make_synthetic_faces

pytestmark = pytest.mark.timeout(240)

CV_KEYS = (
    "params",
    "param_dropout",
    "mean_test_score",
    "std_test_score",
    "rank_test_score",
    "split0_test_score",
    "split1_test_score",
    "mean_train_score",
    "split0_train_score",
    "split1_train_score",
)


class ThreadProbe(Callback):
    """Records torch's thread count after every epoch; ``sleep`` slows an epoch down."""

    def __init__(self, sleep=0.0):
        self.sleep = sleep

    def on_epoch_end(self, net, **kwargs):
        net.history.record("torch_threads", torch.get_num_threads())
        if self.sleep:
            time.sleep(self.sleep)


def small_cnn(**params):
    return CNNClassifier(conv_filters=(4, 8), dense_units=8, max_epochs=2, random_state=0, **params)


def test_core_never_imports_dask():
    code = (
        "import sys, numpy as np, facenet_sk, facenet_sk.cli, facenet_sk.compare\n"
        "from facenet_sk import FCNetClassifier\n"
        "X = np.random.default_rng(0).random((20, 12)); y = np.arange(20) % 2\n"
        "FCNetClassifier((4,), max_epochs=1).fit(X, y).predict(X)\n"
        "assert 'distributed' not in sys.modules and 'dask' not in sys.modules, "
        "sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_a_task_uses_one_thread_and_code_outside_tasks_none(monkeypatch):
    distributed = pytest.importorskip("distributed")
    assert dask_task_threads() is None  # not in a task
    monkeypatch.setattr(distributed, "get_worker", lambda: object())
    assert dask_task_threads() == 1


# --------------------------------------------------------------- the cluster
def _task_recorder(scheduler):
    """A scheduler plugin that remembers every fit task's dependencies and transitions."""
    from distributed.diagnostics.plugin import SchedulerPlugin

    class TaskRecorder(SchedulerPlugin):
        def __init__(self):
            self.deps = {}
            self.transitions = []

        def transition(self, key, start, finish, *args, **kwargs):
            if "fit_and_score" not in str(key):
                return
            self.transitions.append((key, start, finish))
            if finish == "processing":
                task = scheduler.tasks[key]
                self.deps[key] = sorted(str(d.key) for d in task.dependencies)

        def clear(self):
            self.deps.clear()
            self.transitions.clear()

    return TaskRecorder()


@pytest.fixture(scope="module")
def cluster():
    pytest.importorskip("distributed")
    import cloudpickle
    import dask
    from distributed import Client, LocalCluster

    # The test classes travel by value, whatever the import mode of pytest.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    # The nannies write these variables into this process's environment (where
    # they also take precedence over the configuration): put them back at the end.
    environ = "distributed.nanny.pre-spawn-environ"
    saved = {k: os.environ.get(k) for k in dask.config.get(environ)}
    os.environ.update(OMP_NUM_THREADS="2", MKL_NUM_THREADS="2")
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    client = Client(cluster)
    recorder = _task_recorder(cluster.scheduler)
    cluster.scheduler.add_plugin(recorder, name="facenet-sk-tests")
    try:
        yield SimpleNamespace(cluster=cluster, client=client, recorder=recorder)
    finally:
        client.close()
        cluster.close()
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def on_cluster(cluster):
    cluster.client.wait_for_workers(2, timeout=60)
    cluster.recorder.clear()
    return cluster


@pytest.fixture(scope="module")
def faces():
    faces = make_synthetic_faces(n_people=3, n_per_person=10, image_size=16)
    return faces.images.astype(np.float32) / 255, faces.target


def _assert_same_cv_results(local, remote):
    for key in CV_KEYS:
        if key in local:
            assert list(remote[key]) == list(local[key]), key


SEARCHES = {
    "grid": lambda est, **kw: GridSearchCV(
        est, {"dropout": [0.0, 0.3]}, cv=2, return_train_score=True, error_score="raise", **kw
    ),
    "random": lambda est, **kw: RandomizedSearchCV(
        est,
        {"dropout": uniform(0, 0.5)},
        n_iter=2,
        cv=2,
        random_state=0,
        return_train_score=True,
        error_score="raise",
        **kw,
    ),
}


@pytest.mark.slow  # a local Dask cluster: the second tier
@pytest.mark.parametrize("kind", SEARCHES)
def test_search_on_the_cluster_equals_the_local_run(kind, on_cluster, faces):
    X, y = faces
    with torch_threads(1):
        local = SEARCHES[kind](small_cnn(), n_jobs=1).fit(X, y)
    with parallel_config(backend="dask"):
        remote = SEARCHES[kind](small_cnn(), n_jobs=-1).fit(X, y)
    _assert_same_cv_results(local.cv_results_, remote.cv_results_)
    assert remote.best_params_ == local.best_params_
    # The 4 fits ran on the workers, and X went there once: every task depends on
    # the same scattered array instead of carrying its own copy.
    deps = on_cluster.recorder.deps
    assert len(deps) == 4
    assert len({tuple(d) for d in deps.values()}) == 1 and len(next(iter(deps.values()))) == 1


@pytest.mark.slow  # a local Dask cluster: the second tier
def test_explicit_scatter_broadcasts_X_and_y(on_cluster, faces):
    X, y = faces
    with parallel_config(backend="dask", scatter=[X, y]):
        SEARCHES["grid"](small_cnn(), n_jobs=-1).fit(X, y)
    deps = on_cluster.recorder.deps
    assert len(deps) == 4 and len({tuple(d) for d in deps.values()}) == 1
    assert len(next(iter(deps.values()))) == 2  # the futures of X and y, nothing else


@pytest.mark.slow  # a local Dask cluster: the second tier
def test_compare_models_on_the_cluster_equals_the_local_run(on_cluster, faces):
    X, y = faces
    train, valid, test = np.arange(30) % 5 < 3, np.arange(30) % 5 == 3, np.arange(30) % 5 == 4
    models = {
        "only_fc": FCNetClassifier((), max_epochs=3, random_state=0),
        "fc": FCNetClassifier((16,), dropout=0.2, max_epochs=3, random_state=0),
        "cnn": small_cnn(batchnorm=True),
    }
    data = (X[train], y[train], X[test], y[test])
    with torch_threads(1):
        local = compare_models(
            models, *data, X_valid=X[valid], y_valid=y[valid], n_jobs=1, progress=False
        )
    with parallel_config(backend="dask"):
        remote = compare_models(
            models, *data, X_valid=X[valid], y_valid=y[valid], n_jobs=-1, progress=False
        )
    pd.testing.assert_frame_equal(
        remote.drop(columns="fit_seconds"), local.drop(columns="fit_seconds")
    )
    assert len(on_cluster.recorder.deps) == 3
    # The models came back from the workers whole: same weights, same probabilities.
    for name in models:
        np.testing.assert_array_equal(
            remote.attrs["models"][name].predict_proba(X[test]),
            local.attrs["models"][name].predict_proba(X[test]),
        )


@pytest.mark.slow  # a local Dask cluster: the second tier
def test_fitted_model_travels_to_a_worker_and_back(on_cluster, faces):
    X, y = faces
    model = small_cnn().fit(X, y)
    client = on_cluster.client
    proba = client.submit(lambda m, data: m.predict_proba(data), model, X).result()
    np.testing.assert_array_equal(proba, model.predict_proba(X))
    back = client.submit(lambda m: m, model, pure=False).result()
    np.testing.assert_array_equal(back.predict(X), model.predict(X))


@pytest.mark.slow  # a local Dask cluster: the second tier
def test_each_task_uses_the_threads_its_worker_gives_it(on_cluster, faces):
    X, y = faces
    client = on_cluster.client
    # Left alone, torch would take the 2 threads of the workers' environment.
    assert client.submit(torch.get_num_threads, pure=False).result() == 2
    assert client.submit(dask_task_threads, pure=False).result() == 1
    with parallel_config(backend="dask"):
        remote = cross_validate(
            small_cnn(callbacks=[ThreadProbe()]), X, y, cv=2, n_jobs=-1, return_estimator=True
        )
    for model in remote["estimator"]:
        assert model.history_[:, "torch_threads"] == [1, 1]
    # The worker thread got its setting back after the task.
    assert client.submit(torch.get_num_threads, pure=False).result() == 2
    with torch_threads(1):
        local = cross_validate(small_cnn(), X, y, cv=2, n_jobs=1)
    np.testing.assert_array_equal(remote["test_score"], local["test_score"])


@pytest.mark.slow  # a local Dask cluster: the second tier
def test_a_task_that_takes_a_whole_worker_uses_the_threads_it_is_given(faces):
    """One task at a time per worker (a resource of which it has one): n_threads gives it more."""
    distributed = pytest.importorskip("distributed")
    X, y = faces
    with (
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=2,
            processes=False,
            resources={"slot": 1},
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        for n_threads, threads in ((None, 1), (2, 2)):
            with parallel_config(backend="dask", client=client, resources={"slot": 1}):
                cv = cross_validate(
                    small_cnn(n_threads=n_threads, callbacks=[ThreadProbe()]),
                    X,
                    y,
                    cv=2,
                    n_jobs=-1,
                    return_estimator=True,
                )
            for model in cv["estimator"]:
                assert model.history_[:, "torch_threads"] == [threads, threads], n_threads


@pytest.fixture(scope="module")
def face_folder(tmp_path_factory, write_face_folder):
    return write_face_folder(
        tmp_path_factory.mktemp("faces"), n_people=3, n_per_person=12, image_size=16, random_state=3
    )


@pytest.mark.slow  # a local Dask cluster: the second tier
def test_cli_grid_and_compare_on_the_scheduler(on_cluster, face_folder, tmp_path, capsys):
    address = on_cluster.cluster.scheduler_address
    common = ["--data", str(face_folder), "--epochs", "1", "--quiet", "--scheduler", address]
    assert (
        main(["grid", "--model", "only_fc", "--param", "dropout=0.0,0.5", "--cv", "2", *common])
        == 0
    )
    out = capsys.readouterr().out
    assert f"scheduler: {address}" in out and "best:" in out
    # 2 candidates x 2 folds ran on the cluster, with X and y broadcast to the workers.
    assert [len(d) for d in on_cluster.recorder.deps.values()] == [2] * 4
    on_cluster.recorder.clear()
    assert (
        main(
            [
                "compare",
                "--models",
                "only_fc,logistic_regression",
                "--out",
                str(tmp_path / "out"),
                *common,
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert f"scheduler: {address}" in out and "logistic_regression" in out
    # Each model's task takes the 6 broadcast arrays (train, test and valid X and y).
    assert [len(d) for d in on_cluster.recorder.deps.values()] == [6] * 2
    assert (tmp_path / "out" / "results.csv").is_file()


@pytest.mark.slow  # a local Dask cluster: the second tier
def test_search_survives_a_killed_worker(on_cluster, faces):
    """A worker dies in the middle of a fit: Dask reruns its task, the results are whole."""
    X, y = faces
    client, scheduler, recorder = (
        on_cluster.client,
        on_cluster.cluster.scheduler,
        on_cluster.recorder,
    )
    with torch_threads(1):
        local = SEARCHES["grid"](small_cnn(), n_jobs=1).fit(X, y)
    search = SEARCHES["grid"](small_cnn(callbacks=[ThreadProbe(sleep=0.5)]), n_jobs=-1)
    failure = []

    def run():
        try:
            # Broadcast X and y: data scattered to one worker only dies with it.
            with parallel_config(backend="dask", scatter=[X, y]):
                search.fit(X, y)
        except BaseException as exc:  # reported by the main thread
            failure.append(exc)

    pids = client.run(os.getpid)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    victim = None
    deadline = time.monotonic() + 60
    while victim is None and time.monotonic() < deadline:
        busy = [
            ts.processing_on.address
            for ts in list(scheduler.tasks.values())
            if "fit_and_score" in str(ts.key) and ts.processing_on is not None
        ]
        victim = busy[0] if busy else None
        time.sleep(0.05)
    assert victim is not None, "no fit task started"
    time.sleep(0.4)  # into the first epoch
    os.kill(pids[victim], signal.SIGKILL)
    thread.join(timeout=120)
    assert not thread.is_alive(), "the search did not finish"
    assert not failure, failure
    _assert_same_cv_results(local.cv_results_, search.cv_results_)
    # A task was running on the killed worker and was run again elsewhere.
    starts = [key for key, _, finish in recorder.transitions if finish == "processing"]
    assert len(starts) > len(set(starts)) == 4
    client.wait_for_workers(2, timeout=60)  # the nanny restarted the worker
    assert pids[victim] not in client.run(os.getpid).values()
