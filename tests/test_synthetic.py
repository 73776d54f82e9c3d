"""make_synthetic_faces: the offline default data set."""

import numpy as np
import pytest

from facenet_sk.datasets import make_synthetic_faces

# Small settings for the tests that do not need the seed's full size.
SMALL = dict(n_people=3, n_per_person=7, image_size=16)


@pytest.fixture(scope="module")
def faces():
    """The default data set, generated once for the module (2,800 images)."""
    return make_synthetic_faces()


def test_default_bunch_shapes_and_dtypes(faces):
    n = 8 * 350
    assert faces.images.shape == (n, 48, 48, 3)
    assert faces.images.dtype == np.uint8
    assert faces.data.shape == (n, 48 * 48 * 3)
    assert faces.data.dtype == np.uint8
    np.testing.assert_array_equal(faces.data, faces.images.reshape(n, -1))
    assert faces.target.shape == (n,)
    assert faces.target.dtype == np.int64
    assert faces.subset.shape == (n,)
    assert isinstance(faces.DESCR, str) and faces.DESCR.strip()


def test_default_target_names_and_labels(faces):
    assert list(faces.target_names) == [f"person_{i}" for i in range(8)]
    assert set(np.unique(faces.target)) == set(range(8))
    np.testing.assert_array_equal(np.bincount(faces.target), [350] * 8)


def test_default_subset_sizes_overall_and_per_person(faces):
    assert set(np.unique(faces.subset)) == {"train", "valid", "test"}
    for name, per_person in (("train", 250), ("valid", 50), ("test", 50)):
        in_subset = faces.subset == name
        assert in_subset.sum() == 8 * per_person
        np.testing.assert_array_equal(
            np.bincount(faces.target[in_subset], minlength=8), [per_person] * 8
        )


def test_subsets_come_in_seed_order_and_are_shuffled_within(faces):
    # train first, then valid, then test, as the seed's three arrays ...
    np.testing.assert_array_equal(faces.subset[:2000], ["train"] * 2000)
    np.testing.assert_array_equal(faces.subset[2000:2400], ["valid"] * 400)
    np.testing.assert_array_equal(faces.subset[2400:], ["test"] * 400)
    # ... but the people are not in blocks inside a split.
    assert (np.diff(faces.target[:2000]) != 0).sum() > 100


def test_images_are_not_blank_and_differ(faces):
    assert faces.images.std() > 20
    # No two images identical (noise, pose and lighting vary per image).
    flat = faces.data[:200]
    assert len(np.unique(flat, axis=0)) == len(flat)


def test_subset_argument_returns_that_part_of_all(faces):
    train = make_synthetic_faces(subset="train")
    assert train.images.shape == (2000, 48, 48, 3)
    np.testing.assert_array_equal(train.subset, ["train"] * 2000)
    in_train = faces.subset == "train"
    np.testing.assert_array_equal(train.images, faces.images[in_train])
    np.testing.assert_array_equal(train.target, faces.target[in_train])


@pytest.mark.parametrize("subset, size", [("train", 5), ("valid", 1), ("test", 1)])
def test_small_subset_sizes(subset, size):
    faces = make_synthetic_faces(**SMALL, subset=subset)
    assert faces.images.shape == (3 * size, 16, 16, 3)
    np.testing.assert_array_equal(np.bincount(faces.target, minlength=3), [size] * 3)


@pytest.mark.parametrize("n_per_person", [3, 4, 5, 6])
def test_every_split_is_non_empty_for_few_images(n_per_person):
    faces = make_synthetic_faces(n_people=2, n_per_person=n_per_person, image_size=8)
    counts = {s: int((faces.subset == s).sum()) for s in ("train", "valid", "test")}
    assert sum(counts.values()) == 2 * n_per_person
    assert min(counts.values()) >= 2, counts
    test = make_synthetic_faces(n_people=2, n_per_person=n_per_person, image_size=8, subset="test")
    assert len(test.target) == counts["test"]


def test_image_size_parameter():
    faces = make_synthetic_faces(**{**SMALL, "image_size": 24})
    assert faces.images.shape == (21, 24, 24, 3)
    assert faces.data.shape == (21, 24 * 24 * 3)


def test_same_random_state_gives_identical_arrays():
    a = make_synthetic_faces(**SMALL, random_state=42)
    b = make_synthetic_faces(**SMALL, random_state=42)
    for key in ("images", "data", "target", "subset"):
        np.testing.assert_array_equal(a[key], b[key])


def test_random_state_instance_is_accepted_and_reproducible():
    a = make_synthetic_faces(**SMALL, random_state=np.random.RandomState(3))
    b = make_synthetic_faces(**SMALL, random_state=np.random.RandomState(3))
    np.testing.assert_array_equal(a.images, b.images)


def test_different_random_state_gives_different_images():
    a = make_synthetic_faces(**SMALL, random_state=0)
    b = make_synthetic_faces(**SMALL, random_state=1)
    assert a.images.shape == b.images.shape
    assert not np.array_equal(a.images, b.images)


def test_return_X_y_matches_bunch():
    X, y = make_synthetic_faces(**SMALL, return_X_y=True)
    bunch = make_synthetic_faces(**SMALL)
    assert X.shape == (21, 16 * 16 * 3) and X.dtype == np.uint8
    assert y.dtype == np.int64
    np.testing.assert_array_equal(X, bunch.data)
    np.testing.assert_array_equal(y, bunch.target)


@pytest.mark.parametrize(
    "params, name",
    [
        (dict(n_people=1), "n_people"),
        (dict(n_people=0), "n_people"),
        (dict(n_people=2.5), "n_people"),
        (dict(n_people="8"), "n_people"),
        (dict(n_per_person=2), "n_per_person"),
        (dict(n_per_person=-1), "n_per_person"),
        (dict(image_size=7), "image_size"),
        (dict(image_size=48.0), "image_size"),
        (dict(subset="training"), "subset"),
        (dict(subset=None), "subset"),
    ],
)
def test_invalid_parameters_raise_value_error(params, name):
    with pytest.raises(ValueError, match=name):
        make_synthetic_faces(**{**SMALL, **params})
