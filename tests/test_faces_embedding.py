"""FaceEmbedding: dlib's ResNet as a scikit-learn transformer."""

import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from facenet_sk.datasets import make_synthetic_faces
from facenet_sk.faces import FaceEmbedding, _embedding

pytest.importorskip("dlib", reason="the face pipeline's extra is not installed")


@pytest.fixture(scope="module")
def chips():
    """12 synthetic 48x48 faces of 3 people (not real faces, but valid input)."""
    return make_synthetic_faces(n_people=3, n_per_person=4, random_state=0)


def test_shape_dtype_and_any_input_form(chips):
    embed = FaceEmbedding()
    from_images = embed.fit_transform(chips.images)
    assert from_images.shape == (12, 128) and from_images.dtype == np.float64
    # Flat rows, floats and other integer dtypes give the same embeddings.
    np.testing.assert_allclose(embed.transform(chips.data), from_images)
    np.testing.assert_allclose(embed.transform(chips.data.astype(np.float32)), from_images)
    np.testing.assert_allclose(embed.transform(chips.images.astype(np.int64)), from_images)
    assert np.isfinite(from_images).all() and np.ptp(from_images, axis=0).max() > 0


def test_works_without_fit_and_any_square_size(chips):
    big = np.stack([np.asarray(Image.fromarray(c).resize((96, 96))) for c in chips.images[:3]])
    assert FaceEmbedding().transform(big).shape == (3, 128)


def test_feature_names_and_pandas_output(chips):
    embed = FaceEmbedding().fit(chips.data)
    names = embed.get_feature_names_out()
    assert names[0] == "faceembedding0" and names[-1] == "faceembedding127" and len(names) == 128
    frame = FaceEmbedding().set_output(transform="pandas").fit_transform(chips.data[:2])
    assert list(frame.columns) == list(names) and frame.shape == (2, 128)


def test_clone_and_pickle_keep_no_model(chips, tmp_path):
    embed = FaceEmbedding(n_jobs=2, memory=str(tmp_path)).fit(chips.data)
    restored = pickle.loads(pickle.dumps(embed))
    # The network is loaded per process, never stored: the pickle stays small.
    assert len(pickle.dumps(embed)) < 2000
    assert clone(embed).get_params() == embed.get_params()
    np.testing.assert_allclose(restored.transform(chips.data[:2]), embed.transform(chips.data[:2]))


@pytest.mark.parametrize("engine", ["torch", "dlib"])
def test_n_jobs_gives_the_same_embeddings(chips, engine):
    one = FaceEmbedding(n_jobs=1, engine=engine).transform(chips.data)
    two = FaceEmbedding(n_jobs=2, engine=engine).transform(chips.data)
    np.testing.assert_allclose(one, two, atol=1e-6)


def test_framing_dlib_only_resizes(chips):
    """framing="dlib" feeds the chip as it is; "course" cuts the part the ResNet wants."""
    a = FaceEmbedding(framing="dlib").transform(chips.data[:2])
    b = FaceEmbedding(framing="course").transform(chips.data[:2])
    assert not np.allclose(a, b)


def _count_embeddings(monkeypatch):
    """Patch both engines to record how many images each call embeds."""
    calls = []

    def counter(original):
        def counting(images, *args):
            calls.append(len(images))
            return original(images, *args)

        return counting

    for name in ("embed_chips", "embed_chips_torch"):
        monkeypatch.setattr(_embedding, name, counter(getattr(_embedding, name)))
    return calls


def test_memory_embeds_each_image_once_in_a_grid_search(chips, tmp_path, monkeypatch):
    calls = _count_embeddings(monkeypatch)
    model = make_pipeline(FaceEmbedding(memory=tmp_path), LogisticRegression())
    search = GridSearchCV(model, {"logisticregression__C": [0.1, 1.0, 10.0]}, cv=3)
    search.fit(chips.data, chips.target)
    # 3 candidates x 3 folds x (train + test) + the refit, yet each image once.
    assert sum(calls) == len(chips.data)
    cached = search.best_estimator_[0].transform(chips.data)
    assert sum(calls) == len(chips.data)
    np.testing.assert_allclose(cached, FaceEmbedding().transform(chips.data))


@pytest.mark.parametrize(
    "X, message",
    [
        (np.zeros((2, 48, 40, 3)), "square RGB"),
        (np.zeros((2, 48, 48, 4)), "square RGB"),
        (np.zeros((2, 48 * 48)), "square RGB image"),
        (np.zeros((2, 8, 8, 3)), "at least 16x16"),
        (np.full((2, 48 * 48 * 3), 256.0), "0..255"),
        (np.full((2, 48 * 48 * 3), -1), "0..255"),
        (np.full((2, 48 * 48 * 3), np.nan), "NaN"),
        (np.zeros((0, 48 * 48 * 3)), "0 sample"),
        (np.full((2, 48 * 48 * 3), "a"), "dtype"),
    ],
)
def test_bad_input_is_a_clear_error(X, message):
    with pytest.raises(ValueError, match=message):
        FaceEmbedding().fit_transform(X)


def test_other_feature_count_after_fit(chips):
    embed = FaceEmbedding().fit(chips.data)
    with pytest.raises(ValueError, match="fitted on 6912 features"):
        embed.transform(np.zeros((1, 32 * 32 * 3)))


def test_bad_parameters():
    with pytest.raises(ValueError, match="framing"):
        FaceEmbedding(framing="tight").fit(np.zeros((1, 48, 48, 3)))


def test_embeddings_equal_dlibs_own_on_the_same_chip(lfw_small):
    """dlib's full pipeline (detect, 5 landmarks, its chip, its ResNet) against FaceEmbedding."""
    import dlib

    from facenet_sk.faces import FaceAligner
    from facenet_sk.faces._models import face_detector, face_recognizer, shape_predictor

    photos = [np.asarray(Image.open(p).convert("RGB")) for p in sorted(lfw_small.glob("*/*"))[::9]]
    theirs, chips = [], []
    for photo in photos:
        box = max(face_detector()(photo, 1), key=lambda b: b.area())
        landmarks = shape_predictor()(photo, box)
        theirs.append(np.array(face_recognizer().compute_face_descriptor(photo, landmarks)))
        chips.append(dlib.get_face_chip(photo, landmarks, size=150, padding=0.25))
    theirs = np.array(theirs)
    # The same chip: the same numbers.
    np.testing.assert_allclose(
        FaceEmbedding(framing="dlib").transform(np.stack(chips)), theirs, atol=1e-5
    )
    # The library's own way (course framing, 48x48 like the course's data): close to
    # dlib's, far closer than the 0.6 that separates two people.
    ours = FaceEmbedding().transform(FaceAligner(image_size=48).transform(photos))
    assert np.linalg.norm(ours - theirs, axis=1).max() < 0.3


@pytest.mark.parametrize(
    "planted",
    [
        np.float64(0.123),  # a scalar would become the whole embedding
        np.zeros(64),  # too short: a broadcast error
        np.zeros((1, 128)),  # another shape
        np.full(128, np.nan),  # not finite
        np.arange(128),  # integers: not an embedding
        np.array(["x"] * 128),  # strings
    ],
)
def test_bad_cache_entries_are_recomputed_and_replaced(chips, tmp_path, monkeypatch, planted):
    """A cache entry that is not a finite (128,) float vector is never trusted."""
    model = FaceEmbedding(memory=tmp_path)
    expected = model.transform(chips.data[:2])
    entries = sorted(tmp_path.rglob("*.npy"))
    assert len(entries) == 2
    np.save(entries[0], planted)
    calls = _count_embeddings(monkeypatch)
    np.testing.assert_allclose(model.transform(chips.data[:2]), expected, atol=1e-6)
    assert sum(calls) == 1  # only the bad entry is computed again...
    assert np.load(entries[0]).shape == (128,)  # ...and replaced
    model.transform(chips.data[:2])
    assert sum(calls) == 1


def test_unreadable_cache_entry_is_recomputed(chips, tmp_path, monkeypatch):
    model = FaceEmbedding(memory=tmp_path)
    expected = model.transform(chips.data[:1])
    (entry,) = tmp_path.rglob("*.npy")
    entry.write_bytes(entry.read_bytes()[:40])  # truncated
    calls = _count_embeddings(monkeypatch)
    np.testing.assert_allclose(model.transform(chips.data[:1]), expected, atol=1e-6)
    assert calls == [1]


def test_pickled_cache_entry_runs_no_code(chips, tmp_path, monkeypatch):
    model = FaceEmbedding(memory=tmp_path)
    expected = model.transform(chips.data[:1])
    (entry,) = tmp_path.rglob("*.npy")
    marker = tmp_path / "ran"
    np.save(entry, np.array([_Planted(marker)], dtype=object), allow_pickle=True)
    np.testing.assert_allclose(model.transform(chips.data[:1]), expected, atol=1e-6)
    assert not marker.exists()


class _Planted:
    """An object whose unpickling would create a file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))
