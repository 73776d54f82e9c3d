"""The documentation builds with Sphinx, warnings counting as errors."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("numpydoc")

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    """Build a copy of docs/ (so that no build output lands in the tree); return the HTML folder."""
    tmp = tmp_path_factory.mktemp("docs")
    source = tmp / "source"
    shutil.copytree(DOCS, source, ignore=shutil.ignore_patterns("_build", "generated"))
    out = tmp / "html"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            str(source),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"sphinx-build failed:\n{result.stdout}\n{result.stderr}"
    return out


@pytest.mark.slow
def test_docs_build_without_warnings(html):
    for page in (
        "index",
        "getting_started",
        "api",
        "results",
        "cluster",
        "user_guide/data",
        "user_guide/models",
        "user_guide/comparing",
        "user_guide/searching",
        "user_guide/cli",
        "user_guide/errors",
    ):
        assert (html / f"{page}.html").is_file(), page


@pytest.mark.slow
def test_api_pages_exist(html):
    generated = html / "generated"
    for name in (
        "facenet_sk.CNNClassifier",
        "facenet_sk.FCNetClassifier",
        "facenet_sk.make_model",
        "facenet_sk.summary",
        "facenet_sk.compare_models",
        "facenet_sk.compare_models_cv",
        "facenet_sk.datasets.load_face_folder",
        "facenet_sk.datasets.make_synthetic_faces",
        "facenet_sk.datasets.load_eight_faces",
        "facenet_sk.plotting.plot_learning_curves",
        "facenet_sk.report.write_report",
        "facenet_sk.nets.CNN",
    ):
        assert (generated / f"{name}.html").is_file(), name
    page = (generated / "facenet_sk.CNNClassifier.html").read_text(encoding="utf-8")
    for member in ("predict_proba", "batchnorm", "interrupted_", "n_params_"):
        assert member in page


@pytest.mark.slow
def test_pages_show_what_the_command_prints(html):
    cli = (html / "user_guide" / "cli.html").read_text(encoding="utf-8")
    for text in (
        "$ facenet-sk compare --help",
        "--epochs EPOCHS",
        "--param NAME=V1,V2,...",
        "$ facenet-sk fetch --help",
        "Total params: 55,304",
    ):
        assert text in cli
    models = (html / "user_guide" / "models.html").read_text(encoding="utf-8")
    assert "Non-trainable params: 784" in models
