"""The notebooks in notebooks/ run from top to bottom and show what they promise.

They are committed with the outputs of a real run (the exercise's 30 epochs on
the synthetic faces), so that they read online with numbers and pictures.
The tests execute copies of them in a temporary folder, each in a fresh
Jupyter kernel of the interpreter running the tests, with one epoch per
network and 21 synthetic images per person (15/3/3; 35, i.e. 25/5/5, for the
baselines, whose 150 eigenfaces need 150 training images) so that it takes
seconds, not the exercise's hour; the committed notebooks stay as they are.
"""

import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import AsyncKernelManager  # noqa: E402

from facenet_sk import MODEL_NAMES  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

#: Fast settings: one epoch, 21 synthetic images per person (15/3/3).
FAST_ENV = {"FACENET_SK_EPOCHS": "1", "FACENET_SK_N_PER_PERSON": "21"}


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory):
    """A kernelspec 'python3' that runs this very interpreter, whatever else is installed."""
    root = tmp_path_factory.mktemp("kernels")
    spec = root / "python3"
    spec.mkdir()
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (tests)",
                "language": "python",
            }
        )
    )
    return root


def run_notebook(name, workdir, kernel_dir, env, monkeypatch):
    """Execute a copy of notebooks/<name> in ``workdir`` with ``env`` set; return it executed.

    The copy sits beside a copy of ``_settings.py``, as in notebooks/. nbclient
    raises CellExecutionError (naming the cell and the traceback) as soon as a
    cell fails.
    """
    for file in (name, "_settings.py"):
        shutil.copy(NOTEBOOKS / file, workdir / file)
    nb = nbformat.read(workdir / name, as_version=4)
    specs = KernelSpecManager(kernel_dirs=[str(kernel_dir)])
    assert specs.get_kernel_spec("python3").argv[0] == sys.executable
    km = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=specs)
    for key, value in env.items():
        monkeypatch.setenv(key, value)  # the kernel inherits the environment
    nbclient.NotebookClient(
        nb, km=km, timeout=600, resources={"metadata": {"path": str(workdir)}}
    ).execute()
    return nb


def outputs(nb):
    """(all text the cells showed, number of PNG images they showed)."""
    texts, n_png = [], 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                texts.append(out["text"])
            data = out.get("data", {})
            texts.append(data.get("text/plain", ""))
            texts.append(data.get("text/html", ""))
            n_png += "image/png" in data
    return "\n".join(texts), n_png


#: What the first code cell of every committed notebook printed: a real run on the
#: whole synthetic data set (the epochs of each stored run: notebooks/README.md).
REAL_RUN = re.compile(
    r"synthetic faces: 8 people, 6912 features per image, 2000 train / "
    r"400 valid / 400 test images; (\d+) epoch\(s\) per network"
)


def test_notebooks_are_committed_with_the_outputs_of_a_real_run():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        assert nb.metadata.kernelspec.name == "python3", path.name
        code = [cell for cell in nb.cells if cell.cell_type == "code"]
        # Run once from top to bottom, every cell, no error.
        assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1)), path.name
        kinds = [out["output_type"] for cell in code for out in cell.outputs]
        assert "error" not in kinds, path.name
        text, n_png = outputs(nb)
        if path.name == "05_own_photos.ipynb":  # real photos, not the synthetic faces
            assert "LFW photos placed in larger pictures" in text, path.name
            assert "face_embedding" in text and n_png >= 2, path.name
            continue
        run = REAL_RUN.search(text)
        assert run, path.name
        assert run.group(1) == "30", (
            path.name,
            f"stored with {run.group(1)} epochs, not the exercise's 30",
        )
        assert n_png >= 1 and ("test_accuracy" in text or "mean_test_score" in text), path.name


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module", autouse=True)
def committed_notebooks_stay_as_they_are():
    """Running the tests must not touch the committed notebooks and their outputs."""
    before = {p.name: _digest(p) for p in NOTEBOOKS.iterdir() if p.is_file()}
    yield
    assert {p.name: _digest(p) for p in NOTEBOOKS.iterdir() if p.is_file()} == before


def test_the_five_notebooks_exist():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == [
        "01_fully_connected.ipynb",
        "02_cnns.ipynb",
        "03_baselines.ipynb",
        "04_grid_search.ipynb",
        "05_own_photos.ipynb",
    ]


@pytest.fixture
def run(tmp_path, kernel_dir, monkeypatch):
    """run(name, **env): execute a notebook in tmp_path; return (text shown, PNGs shown)."""

    def run(name, **env):
        return outputs(run_notebook(name, tmp_path, kernel_dir, {**FAST_ENV, **env}, monkeypatch))

    return run


@pytest.mark.slow
def test_01_fully_connected(run):
    text, n_png = run("01_fully_connected.ipynb")
    assert "synthetic faces: 8 people" in text and "1 epoch(s) per network" in text
    assert "Total params: 55,304" in text and "Total params: 2,847,008" in text
    for column in (
        "only_fc",
        "fc_with_hidden",
        "train_accuracy",
        "valid_accuracy",
        "test_accuracy",
    ):
        assert column in text
    assert text.count("train_acc    train_loss    valid_acc") == 2  # progress: epoch tables
    assert "\x1b[" not in text  # no colour codes in the notebook
    assert n_png == 2  # the faces and the learning curves


@pytest.mark.slow
def test_02_cnns(run):
    text, n_png = run("02_cnns.ipynb")
    assert "Total params: 1,910,576" in text and "Non-trainable params: 784" in text
    for name in ("cnn", "cnn_dropout", "cnn_dropout_batchnorm", "test_accuracy"):
        assert name in text
    for k, name in enumerate(("cnn", "cnn_dropout", "cnn_dropout_batchnorm"), start=1):
        assert f"[{k}/3] {name}" in text
    assert "precision" in text and "f1-score" in text and "person_7" in text
    assert "Warning" not in text  # e.g. tqdm asking for ipywidgets
    assert n_png == 4  # learning curves, confusion matrices, test faces, accuracy bars


@pytest.mark.slow
def test_03_baselines(run):
    text, n_png = run("03_baselines.ipynb", FACENET_SK_N_PER_PERSON="35")
    for name in MODEL_NAMES + ("logistic_regression", "eigenfaces_svm", "test_accuracy"):
        assert name in text
    assert "[7/7] eigenfaces_svm done: test accuracy" in text
    assert n_png == 1


@pytest.mark.slow
def test_04_grid_search(run):
    text, n_png = run("04_grid_search.ipynb")
    assert "param_net__dropout" in text and "mean_test_score" in text
    assert "best: {'net__dropout':" in text and "test accuracy of the refitted best model" in text
    assert text.count("[CV ") >= 9  # a line per fit while the search runs
    assert n_png == 1


@pytest.mark.slow
def test_01_on_a_face_folder(run, tmp_path, write_face_folder):
    """FACENET_SK_FACES and FACENET_SK_CROP switch a notebook to photos in a folder."""
    root = write_face_folder(
        tmp_path / "faces", n_people=3, n_per_person=14, image_size=64, random_state=1
    )
    text, n_png = run(
        "01_fully_connected.ipynb", FACENET_SK_FACES=str(root), FACENET_SK_CROP="8,8,56,56"
    )
    assert f"folder {root}: 3 people, 6912 features per image, 30 train / 6 valid / 6 test" in text
    assert "fc_with_hidden" in text and n_png == 2


@pytest.mark.slow
def test_05_own_photos_on_real_photos(run, lfw_root):
    """Photos placed anywhere in larger pictures: detection, embeddings, unknown, few-shot."""
    pytest.importorskip("dlib", reason="the face pipeline's extra is not installed")
    text, n_png = run(
        "05_own_photos.ipynb", FACENET_SK_LFW=str(lfw_root), FACENET_SK_N_PER_PERSON="12"
    )
    assert "LFW photos placed in larger pictures: 19 people, 228 photos" in text
    assert "known: 8 people" in text and "unknown: 11 people" in text
    for name in MODEL_NAMES + (
        "eigenfaces_svm",
        "face_embedding",
        "test_balanced_accuracy",
        "unknown people's photos rejected",
        "test_accuracy_mean",
    ):
        assert name in text
    assert n_png == 2  # the aligned faces and the few-shot figure


@pytest.mark.slow
def test_05_own_photos_on_synthetic_faces(run, tmp_path):
    pytest.importorskip("dlib", reason="the face pipeline's extra is not installed")
    text, n_png = run(
        "05_own_photos.ipynb",
        FACENET_SK_LFW=str(tmp_path / "no_such_folder"),
        FACENET_SK_N_PER_PERSON="12",
    )
    assert "synthetic faces: 12 people, 144 photos" in text
    assert "face_embedding" in text and n_png == 2
