"""The facenet-sk command."""

import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from facenet_sk import BASELINE_NAMES, MODEL_NAMES, cli, make_model, summary
from facenet_sk._atomic import MANIFEST, read_manifest
from facenet_sk.cli import main

#: Few people and images: the synthetic data of these tests trains in seconds.
SMALL = ["--max-people", "3", "--max-per-person", "21"]
ANSI = re.compile(r"\x1b\[")


@pytest.fixture(scope="module")
def face_folder(tmp_path_factory, write_face_folder):
    """Three people, 14 PNG faces each: small data for the folder path of the CLI."""
    return write_face_folder(
        tmp_path_factory.mktemp("faces"), n_people=3, n_per_person=14, random_state=3
    )


@pytest.fixture
def no_data(monkeypatch):
    """Make loading data fail loudly: a flag error must come before it."""

    def refuse(*args, **kwargs):
        raise AssertionError("the data was loaded before the flags were checked")

    monkeypatch.setattr("facenet_sk.datasets.load_split", refuse)


def test_compare_writes_every_file(face_folder, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        [
            "compare",
            "--data",
            str(face_folder),
            "--epochs",
            "1",
            "--models",
            "only_fc,cnn_dropout_batchnorm,logistic_regression",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "cnn_dropout_batchnorm" in printed and "test_accuracy" in printed
    names = {p.name for p in out.iterdir()}
    assert names == {
        "results.csv",
        "results.md",
        "report.html",
        "per_person.csv",
        "accuracy.png",
        "faces.png",
        "confusion_matrices.png",
        "learning_curves.png",
        MANIFEST,
    }
    assert names - {MANIFEST} == set(cli.COMPARE_FILES)
    assert set(read_manifest(out)) == names - {MANIFEST}
    table = pd.read_csv(out / "results.csv")
    assert list(table.columns) == [
        "model",
        "n_params",
        "train_accuracy",
        "valid_accuracy",
        "test_accuracy",
        "fit_seconds",
        "epochs",
    ]
    assert sorted(table["model"]) == ["cnn_dropout_batchnorm", "logistic_regression", "only_fc"]
    assert table.set_index("model").loc["only_fc", "epochs"] == 1
    assert (
        table.set_index("model").loc["cnn_dropout_batchnorm", "n_params"]
        == 1911360 - 200 * 8 - 8 + 200 * 3 + 3
    )
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 4 and "<table" in html
    assert "| only_fc" in (out / "results.md").read_text()
    per_person = pd.read_csv(out / "per_person.csv")
    assert list(per_person.columns) == [
        "model",
        "person",
        "precision",
        "recall",
        "f1-score",
        "support",
    ]
    assert len(per_person) == 3 * 3 and set(per_person["person"]) == {
        "person_0",
        "person_1",
        "person_2",
    }


def test_every_output_shows_the_table_in_one_order(face_folder, tmp_path, capsys):
    """Best test accuracy first, in the terminal, the CSV, the Markdown and the page."""
    out = tmp_path / "out"
    assert (
        main(
            [
                "compare",
                "--data",
                str(face_folder),
                "--epochs",
                "1",
                "--models",
                "only_fc,logistic_regression,fc_with_hidden",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    table = pd.read_csv(out / "results.csv")
    assert table["test_accuracy"].is_monotonic_decreasing
    order = list(table["model"])

    def positions(text):
        return [text.index(name) for name in order]

    terminal = printed[printed.index("test_accuracy") :]
    markdown = (out / "results.md").read_text()
    markdown = markdown[markdown.index("| model") :]  # after the notes, which hold the command
    html = (out / "report.html").read_text()
    results_html = html[html.index('id="results"') : html.index("</table>")]
    for text in (terminal, markdown, results_html):
        assert positions(text) == sorted(positions(text))


def test_report_lists_data_hyper_parameters_and_versions(tmp_path, capsys):
    import numpy
    import sklearn
    import skorch
    import torch

    from facenet_sk._precision import cpu_bf16_units

    out = tmp_path / "out"
    assert (
        main(
            [
                "compare",
                *SMALL,
                "--epochs",
                "1",
                "--models",
                "cnn_dropout_batchnorm",
                "--set",
                "batchnorm_momentum=0.1",
                "--set",
                "lr=0.002",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    html = (out / "report.html").read_text()
    for text in (
        f"torch {torch.__version__}",
        f"scikit-learn {sklearn.__version__}",
        f"skorch {skorch.__version__}",
        f"numpy {numpy.__version__}",
        "batchnorm_momentum=0.1",
        "lr=0.002",
        "batch_size=128",
        "max_epochs=1",
        "optimizer='adam'",
        "StandardScaler -&gt; CNNClassifier",
        "images per person",
        "image size",
        "48x48x3",
        "random_state",
        "45/9/9 train/valid/test",
        "per person: cnn_dropout_batchnorm",
        "precision='auto'",
        # what "auto" means on this machine
        "CPU bfloat16 units: " + (", ".join(cpu_bf16_units()) or "none"),
    ):
        assert text in html, text
    markdown = (out / "results.md").read_text()
    assert "## hyper-parameters" in markdown and "## data" in markdown


def test_set_reaches_the_trained_network(tmp_path, monkeypatch, capsys):
    import facenet_sk.compare as compare

    seen = {}
    real = compare.compare_models

    def spy(models, *args, **kwargs):
        seen.update({name: model.get_params() for name, model in models.items()})
        return real(models, *args, **kwargs)

    monkeypatch.setattr(compare, "compare_models", spy)
    assert (
        main(
            [
                "compare",
                *SMALL,
                "--epochs",
                "1",
                "--models",
                "cnn,only_fc",
                "--set",
                "batchnorm_momentum=0.1",
                "--set",
                "optimizer=sgd",
                "--out",
                str(tmp_path / "out"),
                "--quiet",
            ]
        )
        == 0
    )
    for name in ("cnn", "only_fc"):
        assert seen[name]["net__batchnorm_momentum"] == 0.1
        assert seen[name]["net__optimizer"] == "sgd"
        assert seen[name]["net__max_epochs"] == 1


def test_max_people_and_max_per_person_reach_the_data(tmp_path, capsys):
    assert (
        main(
            [
                "compare",
                "--max-people",
                "4",
                "--max-per-person",
                "14",
                "--epochs",
                "1",
                "--models",
                "logistic_regression",
                "--out",
                str(tmp_path / "out"),
                "--quiet",
            ]
        )
        == 0
    )
    assert "synthetic faces (4 people, 10/2/2 per person)" in capsys.readouterr().out
    per_person = pd.read_csv(tmp_path / "out" / "per_person.csv")
    assert sorted(per_person["person"]) == [f"person_{i}" for i in range(4)]
    assert per_person["support"].tolist() == [2, 2, 2, 2]


def test_compare_default_data_is_synthetic(tmp_path, capsys):
    code = main(
        [
            "compare",
            "--epochs",
            "1",
            "--models",
            "only_fc",
            "--max-per-person",
            "21",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert code == 0
    assert "synthetic faces" in capsys.readouterr().out
    table = pd.read_csv(tmp_path / "results.csv")
    assert table["model"].tolist() == ["only_fc"]
    assert "8 people, 15/3/3 per person" in (tmp_path / "report.html").read_text()


def test_progress_names_each_model_before_it_trains(tmp_path, capsys):
    """'[k/N] name' comes before the model's epoch table, and nothing is coloured in a pipe."""
    assert (
        main(
            [
                "compare",
                *SMALL,
                "--epochs",
                "2",
                "--models",
                "only_fc,logistic_regression,cnn",
                "--out",
                str(tmp_path / "out"),
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    out = captured.out
    first, second, third = (
        out.index(h) for h in ("[1/3] only_fc", "[2/3] logistic_regression", "[3/3] cnn")
    )
    assert first < out.index("train_acc", first) < out.index("[1/3] only_fc done") < second
    assert second < third < out.index("[3/3] cnn done")
    # The header of the cnn's own epoch table follows its announcement.
    assert out.index("epoch", third) < out.index("[3/3] cnn done")
    assert "train_acc are averages over each epoch's batches" in out
    assert not ANSI.search(captured.out + captured.err)


def test_grid_prints_one_naming_progress_and_the_test_score(face_folder, tmp_path, capsys):
    out = tmp_path / "grid"
    code = main(
        [
            "grid",
            "--data",
            str(face_folder),
            "--model",
            "cnn_dropout",
            "--param",
            "dropout=0.1,0.5",
            "--cv",
            "2",
            "--epochs",
            "1",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "mean_test_score" in printed and "best: dropout=" in printed
    assert "net__" not in printed
    assert "0.1" in printed and "0.5" in printed
    for k in range(1, 6):
        assert f"fit {k}/5" in printed
    assert "fit 5/5 (refit of the best candidate" in printed and "left" in printed
    assert re.search(
        r"test accuracy of the best model, refitted on train\+valid, on the "
        r"untouched test set \(10 images\): \d\.\d{4}",
        printed,
    )
    table = pd.read_csv(out / "results.csv")
    assert "dropout" in table.columns and table["rank_test_score"].is_monotonic_increasing
    assert "untouched test set" in (out / "report.html").read_text()


def test_grid_accepts_the_pipeline_prefix_too(face_folder, capsys):
    assert (
        main(
            [
                "grid",
                "--data",
                str(face_folder),
                "--model",
                "only_fc",
                "--param",
                "net__lr=0.001,0.01",
                "--cv",
                "2",
                "--epochs",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "best: lr=" in printed and "net__" not in printed


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


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["compare", "--data", "/no/such/folder"], "does not exist"),
        (["compare", "--data", "syntetic"], "did you mean 'synthetic'?"),
        (["compare", "--models", "resnet"], "unknown model 'resnet'"),
        (["compare", "--models", "cnn_dropot"], "did you mean 'cnn_dropout'?"),
        (["compare", "--models", "only_fc,only_fc"], "twice"),
        (["compare", "--data", "x", "--crop", "1,2"], "--crop"),
        (["compare", "--crop", "10,10,5,50"], "empty"),
        (["compare", "--epochs", "0"], "argument --epochs: must be an integer >= 1, got 0"),
        (["compare", "--max-people", "1"], "argument --max-people: must be an integer >= 2"),
        (["compare", "--max-per-person", "x"], "argument --max-per-person: must be an integer"),
        (["compare", "--test-size", "1.5"], "argument --test-size: must be a fraction"),
        (["compare", "--n-jobs", "0"], "argument --n-jobs: must not be 0"),
        (["compare", "--set", "lr"], "argument --set: must look like NAME=VALUE"),
        (["compare", "--set", "colour=1"], "no network has a parameter 'colour'"),
        (["compare", "--set", "batchnorm_momentm=0.1"], "did you mean 'batchnorm_momentum'?"),
        (["compare", "--set", "dropout=2"], "--set: The 'dropout' parameter of"),
        (["compare", "--set", "max_epochs=3", "--epochs", "2"], "not both"),
        (["compare", "--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["grid", "--model", "cnn", "--param", "dropout"], "NAME=V1"),
        (["grid", "--model", "cnn_drop", "--param", "dropout=0.1"], "did you mean 'cnn_dropout'?"),
        (
            ["grid", "--model", "cnn", "--param", "colour=1,2", "--epochs", "1"],
            "has no parameter 'colour'",
        ),
        (["grid", "--model", "cnn", "--param", "dropot=0.1,0.2"], "did you mean 'dropout'?"),
        (["grid", "--model", "cnn", "--param", "dropout=0.1", "--cv", "1"], "argument --cv"),
        (["summary", "cnn_dropuot_batchnorm"], "did you mean 'cnn_dropout_batchnorm'?"),
    ],
)
def test_flag_errors_are_one_clear_line_before_any_data(argv, fragment, no_data, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err, err
    assert err.startswith("facenet-sk: error:") and err.count("\n") == 1
    assert "Traceback" not in err
    # Flags, not the library's parameter names.
    assert "max_epochs must" not in err and "max_people=" not in err


def test_data_errors_name_flags_not_parameters(face_folder, tmp_path, capsys):
    code = main(
        [
            "compare",
            "--data",
            str(face_folder),
            "--min-faces",
            "100",
            "--models",
            "only_fc",
            "--out",
            str(tmp_path / "out"),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "--min-faces=100" in err and "min_faces_per_person" not in err


def test_a_crop_outside_the_photos_is_an_error(face_folder, tmp_path, capsys):
    code = main(
        [
            "compare",
            "--data",
            str(face_folder),
            "--crop",
            "0,0,60,60",
            "--models",
            "only_fc",
            "--out",
            str(tmp_path / "out"),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "reaches outside the 48x48 photo" in err


def test_a_non_empty_out_needs_overwrite(tmp_path, capsys, no_data):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text("an earlier run")
    assert main(["compare", "--models", "only_fc", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "not empty (report.html)" in err and "--overwrite" in err
    assert (out / "report.html").read_text() == "an earlier run"


def _run(out, models="logistic_regression", *extra):
    return main(
        [
            "compare",
            *SMALL,
            "--epochs",
            "1",
            "--models",
            models,
            "--out",
            str(out),
            "--quiet",
            *extra,
        ]
    )


def test_overwrite_removes_only_the_previous_runs_files(tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(out, "only_fc") == 0  # writes learning_curves.png
    assert (out / "learning_curves.png").exists()
    (out / "notes.txt").write_text("mine")
    capsys.readouterr()
    assert _run(out, "logistic_regression", "--overwrite") == 0
    printed = capsys.readouterr().out
    assert "removed the previous run's learning_curves.png" in printed
    assert "left alone (not written by facenet-sk): notes.txt" in printed
    assert not (out / "learning_curves.png").exists()
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "report.html").exists() and (out / "faces.png").exists()


def test_overwrite_never_deletes_files_it_did_not_write(tmp_path, capsys):
    """The user's own photos and notes in --out stay, and the message names them."""
    out = tmp_path / "myphotos"
    out.mkdir()
    holiday = b"\x89PNG the user's holiday photo"
    (out / "holiday.png").write_bytes(holiday)
    (out / "notes.txt").write_text("mine")
    assert _run(out, "logistic_regression", "--overwrite") == 0
    printed = capsys.readouterr().out
    assert "left alone (not written by facenet-sk): holiday.png, notes.txt" in printed
    assert "removed" not in printed
    assert (out / "holiday.png").read_bytes() == holiday
    assert (out / "notes.txt").read_text() == "mine"
    # A second run removes nothing of theirs either.
    assert _run(out, "logistic_regression", "--overwrite") == 0
    assert (out / "holiday.png").read_bytes() == holiday


def test_overwrite_in_the_current_folder_keeps_the_users_pngs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pngs = {f"IMG_{i:04d}.png": bytes([i]) * 10 for i in range(3)}
    for name, data in pngs.items():
        (tmp_path / name).write_bytes(data)
    assert _run(".", "only_fc", "--overwrite") == 0
    assert _run(".", "logistic_regression", "--overwrite") == 0  # learning_curves.png goes
    assert "removed the previous run's learning_curves.png" in capsys.readouterr().out
    for name, data in pngs.items():
        assert (tmp_path / name).read_bytes() == data


def test_overwrite_refuses_to_replace_a_file_it_did_not_write(tmp_path, capsys, no_data):
    out = tmp_path / "out"
    out.mkdir()
    (out / "faces.png").write_bytes(b"the user's own faces.png")
    assert main(["compare", "--models", "only_fc", "--out", str(out), "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert "faces.png" in err and "did not write" in err and err.count("\n") == 1
    assert (out / "faces.png").read_bytes() == b"the user's own faces.png"


def test_a_result_file_changed_since_the_run_is_neither_replaced_nor_removed(tmp_path, capsys):
    out = tmp_path / "out"
    assert _run(out, "only_fc") == 0
    (out / "learning_curves.png").write_bytes(b"edited by hand")
    capsys.readouterr()
    assert _run(out, "logistic_regression", "--overwrite") == 0
    printed = capsys.readouterr().out
    assert "left alone (changed since facenet-sk wrote it): learning_curves.png" in printed
    assert (out / "learning_curves.png").read_bytes() == b"edited by hand"
    (out / "report.html").write_text("edited by hand")
    assert _run(out, "logistic_regression", "--overwrite") == 2
    assert "report.html" in capsys.readouterr().err
    assert (out / "report.html").read_text() == "edited by hand"


def test_a_crafted_record_cannot_reach_outside_out(tmp_path, capsys):
    """Names in the record are plain file names of --out; anything else is ignored."""
    import json

    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (out / MANIFEST).write_text(
        json.dumps({"files": {"../victim.txt": "0" * 64, str(victim): "0" * 64}})
    )
    assert _run(out, "logistic_regression", "--overwrite") == 0
    assert victim.read_text() == "keep me"


def test_unwritable_out_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code = main(
        [
            "compare",
            "--epochs",
            "1",
            "--models",
            "only_fc",
            "--out",
            str(blocker / "out"),
            "--quiet",
        ]
    )
    assert code == 1
    assert "cannot create output folder" in capsys.readouterr().err


def test_interrupted_compare_writes_nothing(tmp_path, monkeypatch, capsys):
    import facenet_sk.compare as compare

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(compare, "compare_models", interrupted)
    out = tmp_path / "out"
    assert main(["compare", *SMALL, "--models", "only_fc", "--out", str(out), "--quiet"]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert not out.exists() or list(out.iterdir()) == []


def test_help_names_every_model(capsys):
    """The command, the models, the baselines and the loaders share one list of names."""
    from facenet_sk import _names, baselines, models
    from facenet_sk.datasets import DATA_SOURCES

    assert cli.MODEL_NAMES is models.MODEL_NAMES is MODEL_NAMES is _names.MODEL_NAMES
    assert cli.BASELINE_NAMES is baselines.BASELINE_NAMES is BASELINE_NAMES
    assert cli.FACE_BASELINE_NAMES is baselines.FACE_BASELINE_NAMES
    assert cli.DATA_SOURCES is DATA_SOURCES is _names.DATA_SOURCES
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    for name in MODEL_NAMES + BASELINE_NAMES + DATA_SOURCES:
        assert name in shown


def test_help_imports_neither_torch_nor_scikit_learn():
    """--help answers without the heavy imports (benchmarks/bench_cli_help.py times it)."""
    code = (
        "import sys\n"
        "from facenet_sk.cli import main\n"
        "try:\n    main(['compare', '--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('torch', 'sklearn', 'pandas', 'skorch') "
        "if m in sys.modules)\n"
        "print('heavy:', heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "usage: facenet-sk compare" in result.stdout
    assert "heavy: []" in result.stdout


@pytest.mark.parametrize("command", ["compare", "grid", "summary", "fetch"])
def test_help_of_every_command(command):
    exe = shutil.which("facenet-sk") or f"{sys.executable} -m facenet_sk.cli"
    result = subprocess.run(
        f"{exe} {command} --help", shell=True, capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("usage: facenet-sk " + command)
    assert len(result.stdout.splitlines()) > 5
    assert "seed's" not in result.stdout


def test_help_benchmark_runs():
    """benchmarks/bench_cli_help.py keeps working (its figures: benchmarks/README.md)."""
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_cli_help.py"
    result = subprocess.run(
        [sys.executable, str(script), "--repeats", "1"],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    assert "facenet-sk compare --help" in result.stdout and "import torch" in result.stdout
