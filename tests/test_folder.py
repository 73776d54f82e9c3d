"""load_face_folder: one sub-folder per person, any image Pillow reads."""

import re

import numpy as np
import pytest
from PIL import Image

from facenet_sk.datasets import load_face_folder

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)
EXIF_ORIENTATION = 0x0112


def _solid(colour, size=(40, 40), mode="RGB"):
    return Image.new(mode, size, colour)


def _halves(left, right, size=(80, 40)):
    """An RGB image whose left half is ``left`` and right half ``right``."""
    img = Image.new("RGB", size, right)
    img.paste(left, (0, 0, size[0] // 2, size[1]))
    return img


def _close(pixel, colour, tol=40):
    return np.abs(np.asarray(pixel, dtype=int) - np.asarray(colour)).max() <= tol


@pytest.fixture
def mixed_root(tmp_path):
    """Three people whose images use every format the loader promises to read."""
    root = tmp_path / "faces"
    alice, bob, carol = (root / n for n in ("alice", "bob", "carol"))
    for folder in (alice, bob, carol):
        folder.mkdir(parents=True)
    _solid(RED).save(alice / "a1.jpg", quality=95)
    _solid(200, mode="L").save(alice / "a2.pgm")  # grayscale PGM
    rgba = _solid((0, 0, 255, 255), mode="RGBA")
    rgba.putpixel((0, 0), (0, 0, 255, 0))  # some transparency
    rgba.save(alice / "a3.PNG")  # upper-case extension
    _solid(GREEN).convert("P").save(bob / "b1.gif")  # palette
    _solid(BLUE).convert("P").save(bob / "b2.bmp")  # palette BMP
    _solid((250, 250, 0)).save(carol / "c1.jpeg", quality=95)
    # Not pictures: all ignored.
    (root / "PROVENANCE.md").write_text("# where these came from\n")
    (root / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (alice / "README").write_text("alice's photos\n")
    (alice / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (bob / "notes.txt").write_text("bob\n")
    (carol / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (root / ".hidden_person").mkdir()
    _solid(RED).save(root / ".hidden_person" / "x.jpg")
    (root / "empty_person").mkdir()
    (root / "only_notes").mkdir()
    (root / "only_notes" / "README.md").write_text("no pictures here\n")
    return root


def test_mixed_formats_load_as_rgb_uint8(mixed_root):
    faces = load_face_folder(mixed_root)
    assert faces.images.shape == (6, 48, 48, 3)
    assert faces.images.dtype == np.uint8
    assert faces.data.shape == (6, 48 * 48 * 3)
    np.testing.assert_array_equal(faces.data, faces.images.reshape(6, -1))
    assert faces.target.dtype == np.int64


def test_target_names_are_the_sorted_people_with_images(mixed_root):
    faces = load_face_folder(mixed_root)
    # Hidden, empty and picture-less folders are not people.
    assert list(faces.target_names) == ["alice", "bob", "carol"]
    np.testing.assert_array_equal(faces.target, [0, 0, 0, 1, 1, 2])


def test_filenames_are_sorted_images_only(mixed_root):
    faces = load_face_folder(mixed_root)
    expected = [mixed_root / "alice" / n for n in ("a1.jpg", "a2.pgm", "a3.PNG")]
    expected += [mixed_root / "bob" / n for n in ("b1.gif", "b2.bmp")]
    expected += [mixed_root / "carol" / "c1.jpeg"]
    assert list(faces.filenames) == [str(p) for p in expected]


def test_colours_survive_every_format(mixed_root):
    images = load_face_folder(mixed_root).images
    centre = images[:, 24, 24]
    assert _close(centre[0], RED)  # JPEG
    np.testing.assert_array_equal(centre[1], [200, 200, 200])  # grey -> equal channels
    np.testing.assert_array_equal(centre[2], BLUE)  # RGBA -> RGB
    np.testing.assert_array_equal(centre[3], GREEN)  # palette GIF
    np.testing.assert_array_equal(centre[4], BLUE)  # palette BMP
    assert _close(centre[5], (250, 250, 0))


def test_16_bit_grayscale_is_scaled_to_8_bit(tmp_path):
    for person in ("p", "q"):
        (tmp_path / person).mkdir()
        a = np.zeros((20, 20), dtype=np.uint16)
        a[:, 10:] = 65535
        Image.fromarray(a).save(tmp_path / person / "x.png")
    images = load_face_folder(tmp_path, image_size=20).images
    np.testing.assert_array_equal(images[0, 5, 2], [0, 0, 0])
    np.testing.assert_array_equal(images[0, 5, 17], [255, 255, 255])


def _float_tiffs(root, values):
    """Two people, each one 20x20 32-bit float TIFF (mode F): left half values[0], right
    half values[1]."""
    for person in ("p", "q"):
        (root / person).mkdir()
        a = np.full((20, 20), values[0], dtype=np.float32)
        a[:, 10:] = values[1]
        img = Image.fromarray(a)
        assert img.mode == "F"
        img.save(root / person / "x.tif")
    return root


@pytest.mark.parametrize(
    "values, expected",
    [
        ((0.25, 1.0), (64, 255)),  # 0..1 intensities: scaled to 0..255
        ((0.0, 0.5), (0, 128)),
        ((40.0, 200.0), (40, 200)),  # already 0..255 grey levels: kept
        ((-50.0, 400.0), (0, 255)),  # beyond 0..255: clipped
    ],
)
def test_float_images_load_as_their_grey_levels(tmp_path, values, expected):
    images = load_face_folder(_float_tiffs(tmp_path, values), image_size=20).images
    np.testing.assert_array_equal(images[0, 5, 2], [expected[0]] * 3)
    np.testing.assert_array_equal(images[0, 5, 17], [expected[1]] * 3)


def test_a_float_image_of_nan_is_black_not_an_error(tmp_path):
    images = load_face_folder(_float_tiffs(tmp_path, (np.nan, 1.0)), image_size=20).images
    np.testing.assert_array_equal(images[0, 5, 2], [0, 0, 0])
    np.testing.assert_array_equal(images[0, 5, 17], [255, 255, 255])


def test_return_X_y(mixed_root):
    X, y = load_face_folder(mixed_root, return_X_y=True)
    assert X.shape == (6, 6912) and X.dtype == np.uint8
    np.testing.assert_array_equal(y, [0, 0, 0, 1, 1, 2])


def test_descr_mentions_counts(mixed_root):
    assert "3 people" in load_face_folder(mixed_root).DESCR


@pytest.mark.parametrize("size", [16, 64])
def test_image_size(mixed_root, size):
    faces = load_face_folder(mixed_root, image_size=size)
    assert faces.images.shape == (6, size, size, 3)
    assert faces.data.shape == (6, size * size * 3)


@pytest.mark.parametrize("size", [0, -1, 4.5, "48"])
def test_bad_image_size(mixed_root, size):
    with pytest.raises(ValueError, match="image_size"):
        load_face_folder(mixed_root, image_size=size)


# --------------------------------------------------------------------------- EXIF


def _two_people(root, img_a, img_b, **save):
    for name, img in (("a", img_a), ("b", img_b)):
        (root / name).mkdir(parents=True)
        img.save(root / name / "x.jpg", quality=95, **save)
    return root


def test_without_exif_left_half_stays_left(tmp_path):
    img = _halves(RED, BLUE)
    faces = load_face_folder(_two_people(tmp_path, img, img))
    out = faces.images[0]
    assert _close(out[24, 4], RED) and _close(out[24, 43], BLUE)


def test_exif_orientation_6_is_honoured(tmp_path):
    # Stored landscape, red on the left; orientation 6 says "rotate 90 degrees
    # clockwise to display", which brings the left half to the top.
    img = _halves(RED, BLUE)
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    root = _two_people(tmp_path, img, img, exif=exif)
    with Image.open(root / "a" / "x.jpg") as check:
        assert check.getexif()[EXIF_ORIENTATION] == 6 and check.size == (80, 40)
    out = load_face_folder(root).images[0]
    assert _close(out[4, 24], RED), out[4, 24]
    assert _close(out[43, 24], BLUE), out[43, 24]
    # Left and right columns are the same colour: the halves are now top and bottom.
    assert _close(out[10, 2], out[10, 45], tol=10)


def test_exif_orientation_with_crop_crops_the_upright_image(tmp_path):
    img = _halves(RED, BLUE)  # 80 x 40, displayed as 40 x 80 after orientation 6
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    root = _two_people(tmp_path, img, img, exif=exif)
    top = load_face_folder(root, crop=(0, 0, 40, 40)).images[0]
    bottom = load_face_folder(root, crop=(0, 40, 40, 80)).images[0]
    assert _close(top.reshape(-1, 3).mean(axis=0), RED)
    assert _close(bottom.reshape(-1, 3).mean(axis=0), BLUE)


# --------------------------------------------------------------------------- crop


@pytest.fixture
def target_root(tmp_path):
    """Two people, each a 100 x 100 red image with a green 20 x 20 square at (40, 40)."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        img = _solid(RED, size=(100, 100))
        img.paste(GREEN, (40, 40, 60, 60))
        img.save(tmp_path / name / "x.png")
    return tmp_path


def test_crop_box_cuts_before_resizing(target_root):
    out = load_face_folder(target_root, crop=(40, 40, 60, 60), image_size=16).images
    np.testing.assert_array_equal(out, np.broadcast_to(GREEN, out.shape))


def test_no_crop_keeps_the_whole_image(target_root):
    out = load_face_folder(target_root, image_size=20).images[0]
    np.testing.assert_array_equal(out[0, 0], RED)
    assert _close(out[10, 10], GREEN, tol=60)


def test_crop_accepts_a_list_and_numpy_ints(target_root):
    out = load_face_folder(target_root, crop=np.array([40, 40, 60, 60]), image_size=8).images
    np.testing.assert_array_equal(out, np.broadcast_to(GREEN, out.shape))


def test_center_crop_takes_the_largest_centred_square(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        img = _solid(RED, size=(120, 60))  # red margins left and right ...
        img.paste(GREEN, (30, 0, 90, 60))  # ... around a green centred 60 x 60 square
        img.save(tmp_path / name / "x.png")
    centred = load_face_folder(tmp_path, crop="center", image_size=12).images
    np.testing.assert_array_equal(centred, np.broadcast_to(GREEN, centred.shape))
    squashed = load_face_folder(tmp_path, image_size=12).images
    assert _close(squashed[0, 6, 0], RED, tol=60)


@pytest.mark.parametrize(
    "crop",
    ["middle", (1, 2, 3), (1, 2, 3, 4, 5), 5, (10, 10, 5, 20), (0, 10, 10, 10), ("a", 0, 1, 1)],
)
def test_bad_crop(target_root, crop):
    with pytest.raises(ValueError, match="crop"):
        load_face_folder(target_root, crop=crop)


@pytest.mark.parametrize("crop", [(60, 60, 190, 190), (-5, 0, 50, 50), (0, 0, 100, 101)])
@pytest.mark.parametrize("on_error", ["raise", "skip"])
def test_crop_outside_the_photo_is_an_error_not_black_padding(target_root, crop, on_error):
    with pytest.raises(
        ValueError,
        match=r"crop box .* reaches outside the 100x100 photo "
        r".*x\.png.*within \(0, 0, 100, 100\)",
    ):
        load_face_folder(target_root, crop=crop, on_error=on_error)


def test_crop_on_the_photo_edges_is_fine(target_root):
    assert load_face_folder(target_root, crop=(0, 0, 100, 100), image_size=8).images.shape == (
        2,
        8,
        8,
        3,
    )


# --------------------------------------------------------------------------- selection


@pytest.fixture
def counted_root(tmp_path):
    """People with 4, 3, 3, 1 images (dave, bob, carol, alice)."""
    for name, n in (("alice", 1), ("bob", 3), ("carol", 3), ("dave", 4)):
        (tmp_path / name).mkdir()
        for i in range(n):
            _solid((10 * i, 0, 0), size=(8, 8)).save(tmp_path / name / f"{i}.png")
    return tmp_path


def test_min_faces_per_person(counted_root):
    faces = load_face_folder(counted_root, min_faces_per_person=3)
    assert list(faces.target_names) == ["bob", "carol", "dave"]
    np.testing.assert_array_equal(np.bincount(faces.target), [3, 3, 4])
    assert all("alice" not in f for f in faces.filenames)


def test_min_faces_zero_keeps_everyone(counted_root):
    faces = load_face_folder(counted_root, min_faces_per_person=0)
    assert list(faces.target_names) == ["alice", "bob", "carol", "dave"]
    assert len(faces.target) == 11


def test_max_people_keeps_the_largest_ties_by_name(counted_root):
    faces = load_face_folder(counted_root, max_people=2)
    # dave (4) then the tie bob/carol (3) goes to bob; names stay sorted.
    assert list(faces.target_names) == ["bob", "dave"]
    np.testing.assert_array_equal(faces.target, [0] * 3 + [1] * 4)


def test_min_faces_that_leaves_one_person_is_an_error(counted_root):
    with pytest.raises(ValueError, match=re.escape(str(counted_root))):
        load_face_folder(counted_root, min_faces_per_person=4)


# --------------------------------------------------------------------------- errors


def test_missing_root_names_the_path(tmp_path):
    missing = tmp_path / "no_such_folder"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        load_face_folder(missing)


def test_file_instead_of_folder(tmp_path):
    path = tmp_path / "faces.zip"
    path.write_bytes(b"PK")
    with pytest.raises(NotADirectoryError, match=re.escape(str(path))):
        load_face_folder(path)


def test_empty_folder(tmp_path):
    with pytest.raises(ValueError, match=re.escape(str(tmp_path))):
        load_face_folder(tmp_path)


def test_folder_of_loose_images_without_people(tmp_path):
    _solid(RED).save(tmp_path / "x.jpg")
    with pytest.raises(ValueError, match=re.escape(str(tmp_path))):
        load_face_folder(tmp_path)


def test_only_one_person(tmp_path):
    (tmp_path / "solo").mkdir()
    for i in range(3):
        _solid(RED).save(tmp_path / "solo" / f"{i}.jpg")
    with pytest.raises(ValueError, match=re.escape(str(tmp_path))) as info:
        load_face_folder(tmp_path)
    assert "2 people" in str(info.value)


@pytest.fixture
def corrupt_root(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        for i in range(2):
            _solid(RED).save(tmp_path / name / f"{i}.jpg")
    (tmp_path / "b" / "bad.jpg").write_bytes(b"this is not a jpeg")
    good = (tmp_path / "a" / "0.jpg").read_bytes()
    (tmp_path / "a" / "truncated.jpg").write_bytes(good[: len(good) // 3])
    return tmp_path


def test_corrupt_image_raises_naming_the_file(corrupt_root):
    with pytest.raises(ValueError, match=re.escape(str(corrupt_root / "a" / "truncated.jpg"))):
        load_face_folder(corrupt_root)


def test_not_an_image_with_an_image_extension_names_the_file(corrupt_root):
    (corrupt_root / "a" / "truncated.jpg").unlink()
    with pytest.raises(ValueError, match=re.escape(str(corrupt_root / "b" / "bad.jpg"))):
        load_face_folder(corrupt_root)


def test_on_error_skip_warns_with_count_and_skips(corrupt_root):
    with pytest.warns(UserWarning, match=r"skipped 2 unreadable"):
        faces = load_face_folder(corrupt_root, on_error="skip")
    assert faces.images.shape == (4, 48, 48, 3)
    assert all("bad" not in f and "truncated" not in f for f in faces.filenames)
    np.testing.assert_array_equal(faces.target, [0, 0, 1, 1])


def test_skipped_files_count_against_min_faces_per_person(corrupt_root):
    # 'a' and 'b' have 3 image files each but only 2 readable ones.
    (corrupt_root / "c").mkdir()
    for i in range(3):
        _solid(GREEN).save(corrupt_root / "c" / f"{i}.jpg")
    with pytest.warns(UserWarning, match="skipped 2"):
        faces = load_face_folder(corrupt_root, on_error="skip", min_faces_per_person=2)
    assert list(faces.target_names) == ["a", "b", "c"]
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="1 person"):
        load_face_folder(corrupt_root, on_error="skip", min_faces_per_person=3)


def test_bad_on_error(corrupt_root):
    with pytest.raises(ValueError, match="on_error"):
        load_face_folder(corrupt_root, on_error="ignore")


# --------------------------------------------------------------------------- real faces


def test_real_lfw_subset_loads(lfw_root):
    faces = load_face_folder(lfw_root, crop=(60, 60, 190, 190))
    assert faces.images.shape == (1867, 48, 48, 3)
    assert faces.images.dtype == np.uint8
    assert len(faces.target_names) == 19
    assert list(faces.target_names) == sorted(faces.target_names)
    assert "George_W_Bush" in faces.target_names
    assert np.bincount(faces.target).max() == 530
    # The crop is inside the face area, away from the black funneling wedges.
    assert faces.images.mean() > 60


def test_real_lfw_min_faces_70(lfw_root):
    faces = load_face_folder(lfw_root, crop=(60, 60, 190, 190), min_faces_per_person=70)
    assert len(faces.target_names) == 7
    assert faces.images.shape == (1288, 48, 48, 3)
    assert list(faces.target_names) == [
        "Ariel_Sharon",
        "Colin_Powell",
        "Donald_Rumsfeld",
        "George_W_Bush",
        "Gerhard_Schroeder",
        "Hugo_Chavez",
        "Tony_Blair",
    ]
