"""load_split: one call from a data source to train / valid / test arrays."""

import numpy as np
import pytest

from facenet_sk.datasets import load_split


def test_synthetic_default_is_the_exercise_split():
    split = load_split()
    assert (len(split.y_train), len(split.y_valid), len(split.y_test)) == (2000, 400, 400)
    assert split.X_train.shape == (2000, 6912) and split.X_train.dtype == np.uint8
    assert split.description == "synthetic faces (8 people, 250/50/50 per person)"
    assert split.image_shape == (48, 48, 3)
    assert split.info["people"] == 8 and split.info["images per person"] == "350"
    assert split.info["random_state"] == 0 and "path" not in split.info


def test_synthetic_max_people_and_max_per_person_generate_less():
    split = load_split("synthetic", max_people=3, max_per_person=35, random_state=1)
    assert list(split.target_names) == ["person_0", "person_1", "person_2"]
    assert np.bincount(split.y_train).tolist() == [25, 25, 25]
    assert np.bincount(split.y_test).tolist() == [5, 5, 5]


@pytest.fixture(scope="module")
def folder(tmp_path_factory, write_face_folder):
    return write_face_folder(
        tmp_path_factory.mktemp("faces"), n_people=4, n_per_person=20, random_state=2
    )


def test_folder_split_is_stratified_and_described(folder):
    split = load_split(folder, valid_size=0.1, test_size=0.25, random_state=0)
    assert len(split.y_train) + len(split.y_valid) + len(split.y_test) == 80
    assert np.bincount(split.y_test).tolist() == [5, 5, 5, 5]
    assert split.description == f"folder {folder} (4 people, 80 images, stratified split 52/8/20)"
    assert split.info["path"] == str(folder) and split.info["crop"] == "none"
    assert "valid_size=0.1" in split.info["split"]


def test_folder_caps_people_and_images_per_person(folder):
    split = load_split(folder, max_people=2, max_per_person=10, crop=(4, 4, 44, 44), random_state=0)
    y = np.concatenate([split.y_train, split.y_valid, split.y_test])
    assert np.bincount(y).tolist() == [10, 10] and len(split.target_names) == 2
    assert split.info["crop"] == "4,4,44,44" and split.info["images per person"] == "10"


def test_max_per_person_draws_at_random_with_the_seed(folder):
    a, b, c = (load_split(folder, max_per_person=10, random_state=seed) for seed in (0, 0, 1))
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(np.sort(a.X_train, axis=0), np.sort(c.X_train, axis=0))


def test_eight_faces_keeps_its_fixed_split_when_capped(tmp_path, write_eight_faces_h5):
    write_eight_faces_h5(tmp_path / "Data_8_faces_no_cut.hdf5", n_per_split=(80, 16, 16))
    split = load_split("eight-faces", data_home=tmp_path, max_people=3, max_per_person=7)
    assert len(split.target_names) == 3
    # Per person 10 train, 2 valid, 2 test -> cut to 7 in the same ratio: 5, 1, 1.
    assert np.bincount(split.y_train).tolist() == [5, 5, 5]
    assert np.bincount(split.y_valid).tolist() == [1, 1, 1]
    assert np.bincount(split.y_test).tolist() == [1, 1, 1]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_people": 1}, "max_people must be None or an integer >= 2"),
        ({"max_per_person": 2}, "max_per_person must be None or an integer >= 3"),
        ({"valid_size": 0}, "valid_size must be a fraction"),
        ({"valid_size": 0.5, "test_size": 0.5}, "leave no images for training"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_split("synthetic", **kwargs)


def test_missing_folder_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_split(tmp_path / "nobody")
