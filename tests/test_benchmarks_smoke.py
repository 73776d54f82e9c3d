"""The benchmark scripts still run (tiny sizes; their figures are in benchmarks/README.md)."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _run(script, *args):
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.slow
def test_bench_fit_smoke():
    # Epochs of a few milliseconds (only_fc on 128 images) are timed more times.
    # Half a second leaves a margin of about 100x over only_fc's epoch, so that a
    # machine loaded by other work still times it more than once.
    out = _run("bench_fit.py", "--smoke", "--min-seconds", "0.5")
    for column in (
        "epochs",
        "facenet_sk img/s",
        "hand loop img/s",
        "skorch img/s",
        "vs hand loop",
        "vs skorch",
        "roofline",
        "pred img/s",
    ):
        assert column in out
    for name in ("only_fc", "fc_with_hidden", "cnn", "cnn_dropout", "cnn_dropout_batchnorm"):
        assert f"\n{name}" in out or f" {name} " in out
    assert "fp32 matmul" in out
    epochs = {
        line.split()[0]: int(line.split()[1])
        for line in out.splitlines()
        if line.split()[:1] and line.split()[0] in ("only_fc", "cnn")
    }
    assert epochs["only_fc"] > 1 and epochs["cnn"] >= 1
    # The price of dropout, from cnn and cnn_dropout timed in the same repetition.
    assert "dropout cost (facenet_sk): cnn_dropout takes " in out
    assert "of cnn's time per epoch (median of 1 repetitions" in out


@pytest.mark.slow
def test_bench_dropout_smoke():
    out = _run("bench_dropout.py", "--smoke")
    rows = {line[:26].strip(): line[26:].split() for line in out.splitlines()[2:5]}
    assert list(rows) == ["cnn", "cnn_dropout", "cnn_dropout, nn.Dropout"]
    for milliseconds, ratio in rows.values():
        assert float(milliseconds) > 0 and ratio.endswith("%")
    assert rows["cnn"][1] == "+0.0%"
    # Three dropout layers (two after the poolings, one after the dense layer) draw masks.
    assert re.search(r"facenet_sk's masks: \d+\.\d+ ms per step \(3 dropout layers\)", out)


@pytest.mark.slow
def test_bench_protocol_smoke():
    out = _run("bench_protocol.py", "--smoke")
    assert "wall time:" in out and "peak RSS:" in out
    assert "cnn_dropout_batchnorm" in out


@pytest.mark.slow
def test_real_faces_smoke(lfw_root, tmp_path):
    out = _run(
        "real_faces.py",
        "--root",
        str(lfw_root),
        "--sets",
        "lfw7",
        "--epochs",
        "1",
        "--best-epochs",
        "1",
        "--out",
        str(tmp_path),
    )
    assert "lfw7: 7 people, 966 train / 322 test images" in out
    for name in (
        "only_fc",
        "cnn_dropout_batchnorm",
        "cnn_best",
        "logistic_regression",
        "eigenfaces_svm",
        "test_balanced_accuracy",
    ):
        assert name in out
    written = {p.name for p in (tmp_path / "lfw7").iterdir()}
    assert {"results.csv", "accuracy.png", "learning_curves.png"} <= written


@pytest.mark.slow
def test_check_cuda_dry_run_on_the_cpu():
    """The GPU check script itself keeps working (CI has no GPU: its CPU dry run)."""
    out = _run(
        "check_cuda.py",
        "--device",
        "cpu",
        "--epochs",
        "1",
        "--n-per-person",
        "20",
        "--min-accuracy",
        "0",
    )
    assert "FAIL" not in out
    assert out.count("ok    ") >= 20 and "all checks passed" in out


@pytest.mark.slow
def test_few_shot_smoke(tmp_path):
    out = _run(
        "few_shot.py",
        "--synthetic",
        "--epochs",
        "1",
        "--n-draws",
        "2",
        "--n-per-person",
        "1,3,all",
        "--models",
        "only_fc,logistic_regression,eigenfaces_svm",
        "--out",
        str(tmp_path),
        "--figure",
        str(tmp_path / "fig.png"),
    )
    assert "data: synthetic faces, 3 people x 16 images" in out
    assert "| model " in out and "| all (12)" in out and "wall time:" in out
    for name in ("only_fc", "logistic_regression", "eigenfaces_svm"):
        assert f"| {name} " in out
    table = pd.read_csv(tmp_path / "few_shot.csv")
    assert len(table) == 3 * (2 + 2 + 1)
    assert table["test_accuracy"].between(0, 1).all()
    assert (tmp_path / "few_shot.png").stat().st_size > 10_000
    assert (tmp_path / "fig.png").is_file() and (tmp_path / "few_shot.md").is_file()
    # --reuse keeps the other models' rows and re-runs only the one asked for.
    _run(
        "few_shot.py",
        "--synthetic",
        "--epochs",
        "1",
        "--n-draws",
        "2",
        "--n-per-person",
        "1,3,all",
        "--models",
        "logistic_regression",
        "--out",
        str(tmp_path),
        "--reuse",
    )
    again = pd.read_csv(tmp_path / "few_shot.csv")
    assert sorted(again["model"].unique()) == sorted(table["model"].unique())
    assert len(again) == len(table)


@pytest.mark.slow
def test_augmentation_smoke(lfw_root):
    out = _run("augmentation.py", "--root", str(lfw_root), "--epochs", "1")
    assert "LFW-7: 966 train / 322 test photos" in out
    rows = [line for line in out.splitlines() if line.startswith("cnn_best augment=")]
    assert len(rows) == 2 and all("test accuracy 0." in row for row in rows)


@pytest.mark.slow
def test_bench_whole_fit_smoke():
    out = _run(
        "bench_whole_fit.py",
        "--smoke",
        "--models",
        "only_fc,cnn",
        "--precisions",
        "float32,auto",
        "--no-keras",
    )
    assert "CPU:" in out
    for name in ("only_fc (1 epochs)", "cnn (1 epochs)"):
        line = next(line for line in out.splitlines() if line.startswith(name))
        assert "facenet_sk float32" in line and "facenet_sk auto" in line


@pytest.mark.slow
def test_bench_grid_smoke():
    out = _run("bench_grid.py", "--smoke", "--libraries", "facenet_sk,skorch")
    assert "CPU:" in out and "2 rates x 2 folds + refit" in out
    mine = next(line for line in out.splitlines() if line.startswith("facenet_sk: "))
    theirs = next(line for line in out.splitlines() if line.startswith("skorch: "))
    assert re.search(r"best dropout 0\.[15]; test accuracy at 1 epochs [01]\.\d{4}", mine)
    assert re.search(r"facenet_sk x\d+\.\d\d faster", theirs)
    # The difference of the two seeds' mean accuracies, in standard errors.
    gap = r"^facenet_sk - skorch: [+-]\d\.\d{4} mean test accuracy"
    gap += r"(, [+-]\d+\.\d standard errors| \(every seed)"
    printed = float(re.search(gap, out, re.M).group(0).split(": ")[1].split()[0])

    def seeds(line):
        return [float(a) for a in line.split("(seeds 0,1: ")[1].rstrip(")").split(", ")]

    assert printed == pytest.approx(np.mean(seeds(mine)) - np.mean(seeds(theirs)), abs=1e-4)


@pytest.mark.slow
def test_precision_accuracy_smoke():
    out = _run("precision_accuracy.py", "--smoke")
    assert "bf16-related flags:" in out
    assert "bf16 within f32 spread" in out
    # Two seeds x two precisions x two networks, one line each.
    lines = r"^synthetic (only_fc|cnn) (float32|bfloat16) seed [01]: "
    assert len(re.findall(lines, out, re.M)) == 8


@pytest.mark.slow
def test_bench_notebook_path_smoke():
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    out = _run("bench_notebook_path.py", "--smoke")
    for kind in ("notebook", "script", "command"):
        line = rf"^{kind}: \d+\.\d{{3}} s per epoch, x\d+\.\d{{3}} the command's$"
        assert re.search(line, out, re.M)
    assert "command: " in out and "x1.000 the command's" in out


@pytest.mark.slow
def test_bench_fixed_cost_smoke():
    out = _run("bench_fixed_cost.py", "--smoke", "--models", "only_fc")
    assert "CPU:" in out and "64 images of 6912 features" in out
    for label in ("only_fc", "skorch, one linear layer"):
        line = next(line for line in out.splitlines() if line.startswith(label))
        intercept, slope = (float(value) for value in line[34:].split())
        assert np.isfinite(intercept) and np.isfinite(slope)
