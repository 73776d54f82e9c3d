"""Shared fixtures: where the real faces live, and a writer of small "8 faces" files."""

import os
from pathlib import Path

# scikit-learn's estimator checks include check_array_api_input, which skips
# itself unless SciPy's array API support is switched on before SciPy loads.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import h5py
import numpy as np
import pytest

#: The real LFW subset, relative to the repository root (overridden by FACENET_SK_LFW).
_DEFAULT_LFW = (
    Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "lfw_deepfunneled"
)


def _lfw_root_or_skip():
    root = Path(os.environ.get("FACENET_SK_LFW") or _DEFAULT_LFW)
    if not root.is_dir():
        reason = f"real LFW faces folder {str(root)!r} is absent (set FACENET_SK_LFW)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI must not skip the real-data tests")
        pytest.skip(reason)
    return root


@pytest.fixture
def lfw_root():
    """Path of the real LFW faces folder; skip without it, but fail on CI (CI=true)."""
    return _lfw_root_or_skip()


@pytest.fixture(scope="session")
def faces():
    """Tiny synthetic faces for quick fits: 3 people, 12 images each, 16x16 RGB.

    Modules that need other sizes define their own ``faces``.
    """
    from facenet_sk.datasets import make_synthetic_faces

    return make_synthetic_faces(n_people=3, n_per_person=12, image_size=16, random_state=0)


@pytest.fixture(scope="session")
def lfw_small(tmp_path_factory):
    """A small LFW-style folder: links to 12 photos of each of 6 LFW people.

    For the face pipeline's tests, whose embeddings cost about 55 ms a photo.
    """
    source = _lfw_root_or_skip()
    root = tmp_path_factory.mktemp("lfw_small")
    people = sorted(p for p in source.iterdir() if p.is_dir())[:6]
    for person in people:
        (root / person.name).mkdir()
        for photo in sorted(person.glob("*.jpg"))[:12]:
            (root / person.name / photo.name).symlink_to(photo)
    return root


@pytest.fixture(scope="session")
def lfw_small_embeddings(lfw_small):
    """The 48x48 course crops of ``lfw_small`` and their embeddings, computed once a session."""
    pytest.importorskip("dlib", reason="the face pipeline's extra is not installed")
    from sklearn.utils import Bunch

    from facenet_sk.datasets import load_face_folder
    from facenet_sk.faces import FaceEmbedding

    faces = load_face_folder(lfw_small, crop=(60, 60, 190, 190))
    return Bunch(faces=faces, embeddings=FaceEmbedding(n_jobs=2).transform(faces.data))


def _write_eight_faces_h5(
    path,
    n_per_split=(16, 4, 4),
    n_classes=8,
    *,
    image_size=48,
    dtype=np.uint8,
    one_hot=False,
    seed=0,
    overrides=None,
):
    """Write a small HDF5 file in the course's layout and return its path.

    Labels cycle through ``0..n_classes-1`` so every class appears in every
    split that has ``n_classes`` images or more. ``overrides`` maps a key to an
    array that replaces (or adds) that dataset, or to None to leave it out.
    """
    rng = np.random.default_rng(seed)
    arrays = {}
    for subset, n in zip(("train", "valid", "test"), n_per_split):
        images = rng.integers(0, 256, (n, image_size, image_size, 3)).astype(dtype)
        labels = np.arange(n) % n_classes
        if one_hot:
            labels = np.eye(n_classes, dtype=np.float32)[labels]
        arrays[f"X_{subset}_8_faces"] = images
        arrays[f"Y_{subset}_8_faces"] = labels
    for key, value in (overrides or {}).items():
        if value is None:
            arrays.pop(key, None)
        else:
            arrays[key] = value
    path = Path(path)
    with h5py.File(path, "w") as h5:
        for key, value in arrays.items():
            h5.create_dataset(key, data=value)
    return path


@pytest.fixture
def write_eight_faces_h5():
    """The writer :func:`_write_eight_faces_h5`, as a fixture for any test module."""
    return _write_eight_faces_h5


def _write_face_folder(root, *, n_people, n_per_person, image_size=48, random_state=0):
    """Save synthetic faces as PNGs, one sub-folder per person; return ``root``."""
    from PIL import Image

    from facenet_sk.datasets import make_synthetic_faces

    faces = make_synthetic_faces(
        n_people=n_people,
        n_per_person=n_per_person,
        image_size=image_size,
        random_state=random_state,
    )
    for i, (image, label) in enumerate(zip(faces.images, faces.target)):
        folder = root / f"person_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{i:03d}.png")
    return root


@pytest.fixture(scope="session")
def write_face_folder():
    """The writer :func:`_write_face_folder`, as a fixture for any test module."""
    return _write_face_folder


def _predictions_from_threads(model, X, n_threads=8, calls=3):
    """``predict_proba(X)`` from ``n_threads`` threads started together, ``calls`` times each.

    Returns the list of every answer; an exception in any thread fails the test.
    """
    import threading

    results, errors = [None] * n_threads, []
    start = threading.Barrier(n_threads)

    def work(i):
        try:
            start.wait()
            results[i] = [model.predict_proba(X) for _ in range(calls)]
        except Exception as exc:  # reported below, in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return [proba for answers in results for proba in answers]


@pytest.fixture
def predictions_from_threads():
    """The helper :func:`_predictions_from_threads`, as a fixture for any test module."""
    return _predictions_from_threads
