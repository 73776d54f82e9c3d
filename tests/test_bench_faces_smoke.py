"""The face pipeline's benchmark scripts still run (tiny sizes; figures in benchmarks/README.md)."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

pytest.importorskip("dlib", reason="the face pipeline's extra is not installed")


def _run(script, *args):
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.slow
def test_own_photos_smoke(lfw_root, tmp_path):
    out = _run("own_photos.py", "--root", str(lfw_root), "--smoke", "--cache", str(tmp_path))
    assert "crops: 4 people, 24 train / 8 test photos" in out
    assert "detected: faces found in" in out and "anywhere: 8 test photos pasted" in out
    assert "| 0.48 |" in out and "unknown: 3 known people, 1 unknown" in out
    # The cache holds the embeddings of the crops and of the detected faces.
    assert len(list(tmp_path.rglob("*.npy"))) >= 32


@pytest.mark.slow
def test_bench_embedding_smoke():
    out = _run("bench_embedding.py", "--n", "16", "--repeats", "1", "--root", "none")
    assert "16 chips of 150x150 from synthetic faces" in out and "CPU features: has" in out
    for row in (
        "| dlib loop |",
        "| dlib engine, n_jobs=2 |",
        "| torch, n_jobs=1 |",
        "| torch, n_jobs=2 |",
        "| torch bfloat16, n_jobs=2 |",
    ):
        assert row in out
    assert "largest coordinate difference to dlib's loop, torch, n_jobs=1: " in out
    assert "peak RSS:" in out and "whole path: skipped" in out


@pytest.mark.slow
def test_bench_embedding_whole_path_smoke(lfw_root):
    out = _run(
        "bench_embedding.py",
        "--n",
        "8",
        "--repeats",
        "1",
        "--n-jobs",
        "1",
        "--detect-n",
        "4",
        "--root",
        str(lfw_root),
    )
    assert "whole path on 4 photos: load_face_folder(detect=True, n_jobs=1)" in out
    assert "| torch, n_jobs=1 |" in out
