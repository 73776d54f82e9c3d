"""train_valid_test_split: a stratified three-way split."""

import numpy as np
import pytest

from facenet_sk import train_valid_test_split


@pytest.fixture
def seed_like():
    """2,800 samples of 8 classes (350 each) in blocks, like the seed's data; X[i] == i."""
    y = np.repeat(np.arange(8), 350)
    X = np.arange(len(y))[:, None] * np.ones((1, 3), dtype=int)
    return X, y


def test_default_sizes_are_the_seeds(seed_like):
    X_tr, X_va, X_te, y_tr, y_va, y_te = train_valid_test_split(*seed_like, random_state=0)
    assert (len(X_tr), len(X_va), len(X_te)) == (2000, 400, 400)
    assert (len(y_tr), len(y_va), len(y_te)) == (2000, 400, 400)


def test_stratified_per_class_counts(seed_like):
    _, _, _, y_tr, y_va, y_te = train_valid_test_split(*seed_like, random_state=0)
    np.testing.assert_array_equal(np.bincount(y_tr, minlength=8), [250] * 8)
    np.testing.assert_array_equal(np.bincount(y_va, minlength=8), [50] * 8)
    np.testing.assert_array_equal(np.bincount(y_te, minlength=8), [50] * 8)


def test_stratified_with_unbalanced_classes():
    y = np.repeat([0, 1], [700, 70])
    X = np.arange(len(y))
    _, _, _, y_tr, y_va, y_te = train_valid_test_split(
        X, y, valid_size=0.2, test_size=0.1, random_state=0
    )
    np.testing.assert_array_equal(np.bincount(y_va), [140, 14])
    np.testing.assert_array_equal(np.bincount(y_te), [70, 7])
    np.testing.assert_array_equal(np.bincount(y_tr), [490, 49])


def test_parts_are_disjoint_cover_everything_and_keep_pairs(seed_like):
    X, y = seed_like
    X_tr, X_va, X_te, y_tr, y_va, y_te = train_valid_test_split(X, y, random_state=0)
    ids = np.concatenate([X_tr[:, 0], X_va[:, 0], X_te[:, 0]])
    np.testing.assert_array_equal(np.sort(ids), np.arange(len(y)))
    for X_part, y_part in ((X_tr, y_tr), (X_va, y_va), (X_te, y_te)):
        np.testing.assert_array_equal(y[X_part[:, 0]], y_part)


def test_parts_are_shuffled(seed_like):
    X_tr, *_ = train_valid_test_split(*seed_like, random_state=0)
    assert not np.all(np.diff(X_tr[:, 0]) > 0)


def test_same_random_state_reproduces(seed_like):
    a = train_valid_test_split(*seed_like, random_state=7)
    b = train_valid_test_split(*seed_like, random_state=7)
    for part_a, part_b in zip(a, b):
        np.testing.assert_array_equal(part_a, part_b)


def test_different_random_state_differs(seed_like):
    a = train_valid_test_split(*seed_like, random_state=0)
    b = train_valid_test_split(*seed_like, random_state=1)
    assert not np.array_equal(a[2], b[2])


def test_absolute_counts(seed_like):
    X_tr, X_va, X_te, *_ = train_valid_test_split(
        *seed_like, valid_size=80, test_size=160, random_state=0
    )
    assert (len(X_tr), len(X_va), len(X_te)) == (2560, 80, 160)


def test_numpy_integer_counts_are_counts(seed_like):
    X_tr, X_va, X_te, *_ = train_valid_test_split(
        *seed_like, valid_size=np.int64(80), test_size=np.int32(160), random_state=0
    )
    assert (len(X_tr), len(X_va), len(X_te)) == (2560, 80, 160)


def test_images_keep_their_shape():
    X = np.zeros((70, 48, 48, 3), dtype=np.uint8)
    y = np.repeat(np.arange(2), 35)
    X_tr, X_va, X_te, *_ = train_valid_test_split(X, y, random_state=0)
    assert X_tr.shape == (50, 48, 48, 3)
    assert X_va.shape == X_te.shape == (10, 48, 48, 3)


def test_string_labels(seed_like):
    X, y = seed_like
    names = np.array([f"person_{i}" for i in range(8)])[y]
    *_, y_tr, y_va, y_te = train_valid_test_split(X, names, random_state=0)
    assert set(y_te) == set(names)
    assert (y_te == "person_3").sum() == 50


def test_unstratified_sizes(seed_like):
    X_tr, X_va, X_te, *_ = train_valid_test_split(*seed_like, stratify=False, random_state=0)
    assert (len(X_tr), len(X_va), len(X_te)) == (2000, 400, 400)


@pytest.mark.parametrize(
    "valid_size, test_size",
    [
        (0, 100),  # empty valid part
        (100, 0),  # empty test part
        (0.0001, 0.2),  # rounds to zero samples
        (0.5, 0.5),  # nothing left to train on
        (1400, 1400),
        (2000, 900),  # more than there is
        (-0.1, 0.1),
        (-5, 10),
    ],
)
def test_impossible_sizes_raise(seed_like, valid_size, test_size):
    with pytest.raises(ValueError, match="valid_size"):
        train_valid_test_split(*seed_like, valid_size=valid_size, test_size=test_size)


def test_fewer_test_samples_than_classes_cannot_stratify(seed_like):
    with pytest.raises(ValueError):
        train_valid_test_split(*seed_like, valid_size=100, test_size=4)


def test_class_with_a_single_sample_cannot_stratify():
    y = np.array([0] * 20 + [1])
    with pytest.raises(ValueError):
        train_valid_test_split(np.arange(21), y, valid_size=4, test_size=4)


def test_a_valid_part_smaller_than_the_classes_names_valid_size():
    """8 people x 8 photos: 6 validation images cannot hold one of each of 8 people."""
    X, y = np.zeros((64, 2)), np.repeat(np.arange(8), 8)
    with pytest.raises(ValueError, match="valid_size=0.1 gives 6 validation samples") as info:
        train_valid_test_split(X, y, valid_size=0.1, test_size=0.25)
    assert "test_size" not in str(info.value) and "8 classes" in str(info.value)


def test_a_test_part_smaller_than_the_classes_names_test_size():
    X, y = np.zeros((64, 2)), np.repeat(np.arange(8), 8)
    with pytest.raises(ValueError, match="test_size=0.05 gives 3 test samples") as info:
        train_valid_test_split(X, y, valid_size=0.3, test_size=0.05)
    assert "valid_size" not in str(info.value)


def test_the_command_line_names_the_valid_size_flag(tmp_path, capsys, write_face_folder):
    from facenet_sk.cli import main

    folder = write_face_folder(tmp_path / "faces", n_people=8, n_per_person=8, image_size=16)
    assert (
        main(
            [
                "compare",
                "--data",
                str(folder),
                "--models",
                "logistic_regression",
                "--out",
                str(tmp_path / "out"),
                "--quiet",
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert "--valid-size=0.1 gives 6 validation samples" in err and "--test-size" not in err
    assert err.count("\n") == 1
