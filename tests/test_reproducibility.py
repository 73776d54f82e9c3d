"""Same data and random_state give the same model: across processes, in searches.

Also: ``n_threads`` limits torch's threads while fitting and predicting, and
the caller's setting comes back afterwards.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback

from facenet_sk import CNNClassifier, FCNetClassifier
from facenet_sk.datasets import make_synthetic_faces

# Fits a CNN (dropout, batch norm, augmentation, early stopping on a stratified
# split) and an FC network (dropout, string labels, a fixed validation set), and
# prints their predictions and histories, less the timings, as JSON.
_SCRIPT = textwrap.dedent("""
    import json

    import numpy as np

    from facenet_sk import CNNClassifier, FCNetClassifier
    from facenet_sk.datasets import make_synthetic_faces


    def without_timings(value):
        if isinstance(value, dict):
            return {k: without_timings(v) for k, v in value.items() if k != "dur"}
        if isinstance(value, list):
            return [without_timings(v) for v in value]
        return value


    faces = make_synthetic_faces(n_people=3, n_per_person=12, image_size=16, random_state=5)
    X, names = faces.images / 255.0, faces.target_names[faces.target]
    cnn = CNNClassifier(conv_filters=(4, 8), dense_units=8, dropout=0.3, batchnorm=True,
                        augment=True, early_stopping=True, validation_fraction=0.25,
                        n_iter_no_change=2, max_epochs=4, batch_size=8, random_state=11,
                        n_threads=1).fit(X, faces.target)
    fc = FCNetClassifier(hidden_layer_sizes=(16,), dropout=0.5, max_epochs=3, batch_size=8,
                         random_state=12, n_threads=1).fit(X[:27], names[:27],
                                                           X_valid=X[27:], y_valid=names[27:])
    result = {}
    for key, model in (("cnn", cnn), ("fc", fc)):
        result[key] = {
            "proba": model.predict_proba(X).tolist(),
            "predict": model.predict(X).tolist(),
            "history": without_timings(model.history_.to_list()),
        }
    print(json.dumps(result))
""")


def _run_script(path, hash_seed):
    # Another hash seed changes the order of sets and dicts of strings: it must not matter.
    env = {**os.environ, "PYTHONHASHSEED": str(hash_seed)}
    return subprocess.Popen(
        [sys.executable, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_two_processes_train_identical_models(tmp_path):
    script = tmp_path / "fit_twice.py"
    script.write_text(_SCRIPT)
    runs = [_run_script(script, seed) for seed in (1, 2)]  # side by side, to save time
    outputs = []
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        outputs.append(json.loads(out))
    first, second = outputs
    for key in ("cnn", "fc"):
        history = first[key]["history"]
        # The histories hold what they should, so comparing them means something.
        assert all(
            {"train_loss", "train_acc", "valid_loss", "valid_acc"} <= set(epoch)
            for epoch in history
        )
        assert all("dur" not in epoch for epoch in history)
        assert len(history[0]["batches"]) >= 3
    assert first["fc"]["predict"][0].startswith("person_")
    assert first == second  # every probability and loss, bit for bit


def test_same_process_repeats_and_random_state_instances():
    faces = make_synthetic_faces(n_people=3, n_per_person=8, image_size=16, random_state=6)
    X = faces.images / 255.0

    def fit(random_state):
        return CNNClassifier(
            conv_filters=(4, 8),
            dense_units=8,
            dropout=0.3,
            augment=True,
            max_epochs=2,
            batch_size=8,
            random_state=random_state,
            n_threads=1,
        ).fit(X, faces.target)

    a, b = fit(np.random.RandomState(3)), fit(np.random.RandomState(3))
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.history_[:, "train_loss"] == b.history_[:, "train_loss"]
    assert a.history_[:, "train_acc"] == b.history_[:, "train_acc"]


def test_grid_search_with_a_fixed_random_state_repeats():
    faces = make_synthetic_faces(n_people=3, n_per_person=8, image_size=16, random_state=7)
    X, y = faces.images / 255.0, faces.target

    def search():
        model = CNNClassifier(
            conv_filters=(4, 8),
            dense_units=8,
            max_epochs=2,
            batch_size=8,
            random_state=0,
            n_threads=1,
        )
        return GridSearchCV(
            model, {"dropout": [0.0, 0.5], "lr": [0.001, 0.01]}, cv=2, return_train_score=True
        ).fit(X, y)

    first, second = search(), search()
    for key in (
        "split0_test_score",
        "split1_test_score",
        "split0_train_score",
        "split1_train_score",
        "mean_test_score",
        "rank_test_score",
    ):
        np.testing.assert_array_equal(first.cv_results_[key], second.cv_results_[key], err_msg=key)
    assert first.best_params_ == second.best_params_
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert (
        first.best_estimator_.history_[:, "train_loss"]
        == second.best_estimator_.history_[:, "train_loss"]
    )
    # The candidates really differ, so the equality above is not trivial.
    assert len(set(first.cv_results_["mean_train_score"])) > 1


# ---------------------------------------------------------------- threads
class RecordThreads(Callback):
    """The torch thread count seen at every training batch."""

    def initialize(self):
        self.seen = []
        return self

    def on_batch_end(self, net, **kwargs):
        self.seen.append(torch.get_num_threads())


class Boom(Callback):
    def on_batch_end(self, net, **kwargs):
        raise RuntimeError("boom in training")


@pytest.fixture(scope="module")
def small():
    return make_synthetic_faces(n_people=3, n_per_person=6, image_size=16, random_state=8)


@pytest.fixture
def limit():
    """A thread count other than torch's current one, so that the limit shows."""
    return 1 if torch.get_num_threads() != 1 else 2


@pytest.mark.parametrize("cls", [FCNetClassifier, CNNClassifier])
def test_fit_and_predict_respect_n_threads(small, limit, cls):
    before = torch.get_num_threads()
    recorder = RecordThreads()
    params = {"conv_filters": (4, 8), "dense_units": 8} if cls is CNNClassifier else {}
    model = cls(
        max_epochs=2, batch_size=8, n_threads=limit, callbacks=[recorder], random_state=0, **params
    )
    model.fit(small.images / 255.0, small.target)
    assert recorder.seen and set(recorder.seen) == {limit}
    assert torch.get_num_threads() == before

    seen_in_predict = []
    hook = model.net_.module_.register_forward_hook(
        lambda *args: seen_in_predict.append(torch.get_num_threads())
    )
    try:
        model.predict(small.images / 255.0)
    finally:
        hook.remove()
    assert seen_in_predict and set(seen_in_predict) == {limit}
    assert torch.get_num_threads() == before


def test_without_n_threads_torch_setting_is_left_alone(small):
    before = torch.get_num_threads()
    recorder = RecordThreads()
    FCNetClassifier(max_epochs=1, callbacks=[recorder], random_state=0).fit(
        small.data / 255.0, small.target
    )
    assert set(recorder.seen) == {before}
    assert torch.get_num_threads() == before


def test_n_threads_is_restored_when_fit_fails(small, limit):
    before = torch.get_num_threads()
    model = FCNetClassifier(max_epochs=1, n_threads=limit, callbacks=[Boom()])
    with pytest.raises(RuntimeError, match="boom in training"):
        model.fit(small.data / 255.0, small.target)
    assert torch.get_num_threads() == before
