"""The documented route's benchmarks (verification, strangers, obvious pipeline), tiny sizes."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

pytest.importorskip("dlib", reason="the face pipeline's extra is not installed")


def _run(*args):
    done = subprocess.run(
        [sys.executable, *args], cwd=BENCHMARKS, capture_output=True, text=True, timeout=1800
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
def test_route_verification_strangers_and_pipeline_smoke(lfw_root, tmp_path):
    tiny = tmp_path / "lfw_tiny"
    for person in sorted(p for p in lfw_root.iterdir() if p.is_dir()):
        (tiny / person.name).mkdir(parents=True)
        for photo in sorted(person.glob("*.jpg"))[:4]:
            (tiny / person.name / photo.name).symlink_to(photo)
    cache = str(tmp_path / "cache")
    out = _run("route_embeddings.py", str(tiny), "--cache", cache)
    assert "lfw_tiny: " in out and "of 19 people" in out
    assert (tmp_path / "cache" / "lfw_tiny-route.npz").exists()
    out = _run(
        "verification.py",
        "--roots",
        str(tiny),
        "--cache",
        cache,
        "--pairs-per-fold",
        "2",
        "--folds",
        "5",
    )
    # The documented route is dlib's own, pixel for pixel: the same chips, and
    # embeddings that differ by float rounding only (PyTorch's engine against dlib's).
    difference = re.search(
        r"largest coordinate difference between the routes' embeddings (\S+);", out
    )
    assert difference and float(difference.group(1)) < 1e-4, out
    assert out.count("| ") >= 3 and "difference per fold" in out
    out = _run(
        "strangers.py",
        "--root",
        str(tiny),
        "--known",
        "3",
        "--strangers",
        "3",
        "--draws",
        "2",
        "--gallery",
        "half,2",
        "--cache",
        cache,
    )
    assert out.count("| default (mean, corrected) |") == 2, out
    out = _run(
        "obvious_pipeline.py",
        "--root",
        str(tiny),
        "--people",
        "8",
        "--photos",
        "4",
        "--cache",
        cache,
    )
    assert "LogisticRegression()" in out and "gap:" in out
