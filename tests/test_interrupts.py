"""Ctrl-C during training, and a full disk while writing results.

Ctrl-C is simulated by a skorch callback that raises KeyboardInterrupt, the
exception Python raises on SIGINT; a full disk by a write that raises
``OSError(errno.ENOSPC)`` inside the report's staged folder.
"""

import errno
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

import facenet_sk.cli as cli
import facenet_sk.report as report
from facenet_sk import CNNClassifier, FCNetClassifier, compare_models
from facenet_sk.cli import main
from facenet_sk.datasets import make_synthetic_faces


class CtrlCAt(Callback):
    """Raise KeyboardInterrupt after ``batch`` batches of epoch ``epoch`` (1-based).

    It records the first layer's weights after every batch, so a test can
    check which weights the interrupted model kept.
    """

    def __init__(self, epoch, batch=None):
        self.epoch = epoch
        self.batch = batch

    def initialize(self):
        self.weights = []
        return self

    def on_batch_end(self, net, training=False, **kwargs):
        if not training:
            return
        self.weights.append(first_weight(net.module_).clone())
        if (
            self.batch is not None
            and len(net.history) == self.epoch
            and len(net.history[-1, "batches"]) == self.batch
        ):
            raise KeyboardInterrupt

    def on_epoch_end(self, net, **kwargs):
        if self.batch is None and len(net.history) == self.epoch:
            raise KeyboardInterrupt


def first_weight(module):
    return next(p for p in module.parameters() if p.dim() > 1).detach()


@pytest.fixture(scope="module")
def faces():
    # 30 images: the batch counts below are those of 30 images in batches of 8.
    return make_synthetic_faces(n_people=3, n_per_person=10, image_size=16, random_state=0)


def tiny_fc(**params):
    return FCNetClassifier(
        **{
            **dict(
                hidden_layer_sizes=(8,), max_epochs=5, batch_size=8, random_state=0, n_threads=1
            ),
            **params,
        }
    )


def tiny_cnn(**params):
    return CNNClassifier(
        **{
            **dict(
                conv_filters=(4, 8),
                dense_units=8,
                max_epochs=5,
                batch_size=8,
                random_state=0,
                n_threads=1,
            ),
            **params,
        }
    )


# --------------------------------------------------------------- in fit
@pytest.mark.parametrize("make", [tiny_fc, tiny_cnn], ids=["fc", "cnn"])
def test_ctrl_c_mid_epoch_keeps_the_weights_reached(faces, make):
    X, y = faces.images / 255.0, faces.target
    ctrl_c = CtrlCAt(epoch=2, batch=3)  # 30 images in batches of 8: 4 batches an epoch
    model = make(callbacks=[ctrl_c])
    assert model.fit(X, y) is model  # fit returns normally: skorch stops on Ctrl-C
    assert model.interrupted_ is True
    # history_ shows how far it got: one whole epoch, then 3 batches of the second.
    assert model.n_epochs_ == len(model.history_) == 2
    assert len(model.history_[0, "batches"]) == 4 and "train_loss" in model.history_[0]
    assert len(model.history_[1, "batches"]) == 3 and "train_loss" not in model.history_[1]
    # The weights are those after the 7th optimizer step, not the initial nor a later ones.
    assert len(ctrl_c.weights) == 7
    kept = first_weight(model.net_.module_)
    np.testing.assert_array_equal(kept, ctrl_c.weights[-1])
    assert not torch.equal(kept, ctrl_c.weights[0])
    # ... and the model answers with them.
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)


def test_interrupted_model_stays_usable(faces):
    X, y = faces.data / 255.0, faces.target
    model = tiny_fc(callbacks=[CtrlCAt(epoch=1, batch=2)]).fit(X, y)
    # It pickles and comes back with the same answers.
    restored = pickle.loads(pickle.dumps(model))
    assert restored.interrupted_ and restored.n_epochs_ == 1
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    # Refitting without the interruption trains every epoch and clears the flag.
    model.set_params(callbacks=None).fit(X, y)
    assert model.interrupted_ is False and model.n_epochs_ == 5
    assert all("train_loss" in epoch for epoch in model.history_)
    np.testing.assert_array_equal(model.predict_proba(X), tiny_fc().fit(X, y).predict_proba(X))


def test_ctrl_c_restores_threads_and_the_global_rng(faces):
    before = torch.get_num_threads()
    limit = 1 if before != 1 else 2
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    model = tiny_fc(n_threads=limit, callbacks=[CtrlCAt(epoch=1, batch=1)])
    model.fit(faces.data / 255.0, faces.target)
    assert model.interrupted_
    assert torch.get_num_threads() == before
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_ctrl_c_inside_a_pipeline(faces):
    pipe = make_pipeline(StandardScaler(), tiny_cnn(callbacks=[CtrlCAt(epoch=1)]))
    pipe.fit(faces.data, faces.target)
    assert pipe[-1].interrupted_ and pipe[-1].n_epochs_ == 1
    assert pipe.predict(faces.data).shape == (len(faces.data),)


# ------------------------------------------------------- in compare_models
class Started(Callback):
    """Appends its name to a shared list when training starts (survives clone)."""

    log = []

    def __init__(self, name):
        self.name = name

    def on_train_begin(self, net, **kwargs):
        Started.log.append(self.name)


def test_compare_models_stops_at_the_interrupted_model(faces):
    X, y = faces.data / 255.0, faces.target
    Started.log = []
    models = {
        "first": tiny_fc(max_epochs=1, callbacks=[Started("first")]),
        "second": tiny_fc(callbacks=[Started("second"), CtrlCAt(epoch=2)]),
        "third": tiny_fc(max_epochs=1, callbacks=[Started("third")]),
    }
    with pytest.raises(KeyboardInterrupt, match="training of 'second' was interrupted"):
        compare_models(models, X, y, X, y, progress=False)
    assert Started.log == ["first", "second"]
    # The caller's models are untouched (compare_models fits clones).
    assert not any(hasattr(m, "net_") for m in models.values())


# ------------------------------------------------------------------ CLI
@pytest.fixture(scope="module")
def face_folder(tmp_path_factory, write_face_folder):
    return write_face_folder(
        tmp_path_factory.mktemp("faces"), n_people=3, n_per_person=12, image_size=24, random_state=2
    )


def _compare_argv(face_folder, out, models="only_fc"):
    return [
        "compare",
        "--data",
        str(face_folder),
        "--epochs",
        "1",
        "--models",
        models,
        "--out",
        str(out),
        "--quiet",
    ]


def test_cli_ctrl_c_during_training_exits_130_and_writes_nothing(
    face_folder, tmp_path, monkeypatch, capsys
):
    build = cli.build_models

    def build_with_ctrl_c(names, **kwargs):
        models = build(names, **kwargs)
        # The second network is interrupted in its first epoch, after the first finished.
        models["fc_with_hidden"].set_params(net__callbacks=[CtrlCAt(epoch=1, batch=1)])
        return models

    monkeypatch.setattr(cli, "build_models", build_with_ctrl_c)
    out = tmp_path / "out"
    code = main(_compare_argv(face_folder, out, "only_fc,fc_with_hidden"))
    assert code == 130
    err = capsys.readouterr().err
    assert err == "facenet-sk: interrupted; no result files were written\n"
    assert not out.exists() or sorted(out.iterdir()) == []


def test_cli_ctrl_c_while_writing_the_report_leaves_nothing(
    face_folder, tmp_path, monkeypatch, capsys
):
    real_write_text = Path.write_text

    def write_then_ctrl_c(self, *args, **kwargs):
        real_write_text(self, *args, **kwargs)  # results.md lands in the staged folder...
        raise KeyboardInterrupt  # ... then Ctrl-C

    monkeypatch.setattr(Path, "write_text", write_then_ctrl_c)
    out = tmp_path / "out"
    assert main(_compare_argv(face_folder, out)) == 130
    assert capsys.readouterr().err.count("\n") == 1
    assert out.is_dir() and sorted(out.iterdir()) == []  # no file, no .partial-* folder


# ------------------------------------------------------------ full disk
@pytest.fixture
def full_disk_after_two_files(monkeypatch):
    """Writes into a report's staged folder fail with ENOSPC once two files exist there."""
    real_write_bytes = Path.write_bytes

    def write_bytes(self, data):
        if self.parent.name.startswith(".partial-") and len(list(self.parent.iterdir())) >= 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real_write_bytes(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    return fig


def test_full_disk_in_write_report_leaves_no_file(tmp_path, monkeypatch, full_disk_after_two_files):
    import pandas as pd

    out = tmp_path / "out"
    table = pd.DataFrame({"model": ["a"], "test_accuracy": [0.5]})
    with pytest.raises(OSError) as info:
        report.write_report(table, out, figures={"accuracy": _figure()})
    assert info.value.errno == errno.ENOSPC
    assert "accuracy.png" in str(info.value)
    assert out.is_dir() and sorted(out.iterdir()) == []
    # Once there is room again, the same call writes everything.
    monkeypatch.undo()
    written = report.write_report(table, out, figures={"accuracy": _figure()})
    assert (
        sorted(p.name for p in written)
        == sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
        == ["accuracy.png", "report.html", "results.csv", "results.md"]
    )


def test_full_disk_in_the_cli_is_one_clear_line(
    face_folder, tmp_path, capsys, full_disk_after_two_files
):
    out = tmp_path / "out"
    assert main(_compare_argv(face_folder, out)) == 1
    err = capsys.readouterr().err
    assert err.startswith("facenet-sk: error: ") and err.count("\n") == 1
    assert "No space left on device" in err and "Traceback" not in err
    assert out.is_dir() and sorted(out.iterdir()) == []


# ------------------------------------------------------------- download
def test_ctrl_c_during_a_download_leaves_nothing_and_a_retry_works(
    tmp_path, monkeypatch, capsys, write_eight_faces_h5
):
    import facenet_sk.datasets._download as download
    from facenet_sk.datasets import fetch_eight_faces

    good = write_eight_faces_h5(tmp_path / "good.hdf5").read_bytes()
    data_home = tmp_path / "home"

    def half_then_ctrl_c(url, out, **kwargs):
        out.write(good[: len(good) // 2])
        raise KeyboardInterrupt

    monkeypatch.setattr(download, "_copy_url", half_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        fetch_eight_faces(data_home=data_home, url="http://example.invalid/x.hdf5", progress=False)
    assert sorted(data_home.iterdir()) == []  # no final file, no .part file
    # The command line reports it in one line, exit code 130.
    assert (
        main(["fetch", "--data-home", str(data_home), "--url", "http://example.invalid/x"]) == 130
    )
    assert capsys.readouterr().err.count("\n") == 1
    assert sorted(data_home.iterdir()) == []

    monkeypatch.setattr(download, "_copy_url", lambda url, out, **kwargs: out.write(good))
    path = fetch_eight_faces(
        data_home=data_home, url="http://example.invalid/x.hdf5", progress=False
    )
    assert path.read_bytes() == good
    assert sorted(data_home.iterdir()) == [path]
