"""The facenet-sk command."""

import shutil
import subprocess
import sys

import pandas as pd
import pytest

from facenet_sk.cli import main
from facenet_sk import summary
from facenet_sk import make_model


@pytest.fixture(scope="module")
def face_folder(tmp_path_factory, write_face_folder):
    """Three people, 14 PNG faces each: small data for the folder path of the CLI."""
    return write_face_folder(tmp_path_factory.mktemp("faces"), n_people=3, n_per_person=14,
                             random_state=3)


def test_compare_writes_every_file(face_folder, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["compare", "--data", str(face_folder), "--epochs", "1", "--models",
                 "only_fc,cnn_dropout_batchnorm,logistic_regression", "--out", str(out),
                 "--quiet"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "cnn_dropout_batchnorm" in printed and "test_accuracy" in printed
    names = {p.name for p in out.iterdir()}
    assert names == {"results.csv", "results.md", "report.html", "accuracy.png",
                     "confusion_matrices.png", "learning_curves.png"}
    table = pd.read_csv(out / "results.csv")
    assert list(table.columns) == ["model", "n_params", "train_accuracy", "valid_accuracy",
                                   "test_accuracy", "fit_seconds", "epochs"]
    assert list(table["model"]) == ["only_fc", "cnn_dropout_batchnorm", "logistic_regression"]
    assert list(table["epochs"][:2]) == [1, 1]
    assert table["n_params"][1] == 1911360 - 200 * 8 - 8 + 200 * 3 + 3
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 3 and "<table" in html
    assert "| only_fc" in (out / "results.md").read_text()


def test_compare_default_data_is_synthetic(tmp_path, capsys):
    code = main(["compare", "--epochs", "1", "--models", "only_fc", "--out",
                 str(tmp_path), "--quiet"])
    assert code == 0
    assert "synthetic faces" in capsys.readouterr().out
    table = pd.read_csv(tmp_path / "results.csv")
    assert table["model"].tolist() == ["only_fc"]
    assert "250/50/50 per person" in (tmp_path / "report.html").read_text()


def test_grid_prints_cv_results(face_folder, capsys):
    code = main(["grid", "--data", str(face_folder), "--model", "cnn_dropout", "--param",
                 "dropout=0.1,0.5", "--cv", "2", "--epochs", "1", "--quiet"])
    assert code == 0
    out = capsys.readouterr().out
    assert "mean_test_score" in out and "dropout" in out and "best:" in out
    assert "0.1" in out and "0.5" in out


def test_summary_command(capsys):
    assert main(["summary", "cnn_dropout_batchnorm"]) == 0
    assert capsys.readouterr().out.strip() == summary(make_model("cnn_dropout_batchnorm"))


def test_fetch_reports_a_failed_download_in_one_line(tmp_path, capsys):
    code = main(["fetch", "--data-home", str(tmp_path), "--url", "http://127.0.0.1:9/none"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("facenet-sk: error:") and err.count("\n") == 1
    assert "by hand" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv, fragment", [
    (["compare", "--data", "/no/such/folder"], "does not exist"),
    (["compare", "--models", "resnet"], "unknown model 'resnet'"),
    (["compare", "--data", "x", "--crop", "1,2"], "--crop"),
    (["grid", "--model", "cnn", "--param", "dropout"], "NAME=V1"),
    (["grid", "--model", "cnn", "--param", "colour=1,2", "--epochs", "1"], "no parameter"),
])
def test_errors_are_one_clear_line(argv, fragment, capsys):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err


def test_unwritable_out_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code = main(["compare", "--epochs", "1", "--models", "only_fc", "--out",
                 str(blocker / "out"), "--quiet"])
    assert code == 1
    assert "cannot create output folder" in capsys.readouterr().err


def test_interrupted_compare_writes_nothing(tmp_path, monkeypatch, capsys):
    import facenet_sk.compare as compare

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(compare, "compare_models", interrupted)
    out = tmp_path / "out"
    assert main(["compare", "--models", "only_fc", "--out", str(out), "--quiet"]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert not out.exists() or list(out.iterdir()) == []


@pytest.mark.parametrize("command", ["compare", "grid", "summary", "fetch"])
def test_help_of_every_command(command):
    exe = shutil.which("facenet-sk") or f"{sys.executable} -m facenet_sk.cli"
    result = subprocess.run(f"{exe} {command} --help", shell=True, capture_output=True,
                            text=True, check=True)
    assert result.stdout.startswith("usage: facenet-sk " + command)
    assert len(result.stdout.splitlines()) > 5
