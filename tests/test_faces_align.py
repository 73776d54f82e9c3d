"""FaceAligner and load_face_folder(detect=True): find, align and cut faces in photos."""

import warnings

import numpy as np
import pytest
from PIL import Image

from facenet_sk.datasets import load_face_folder
from facenet_sk.faces import FaceAligner
from facenet_sk.faces._align import as_rgb_uint8

pytest.importorskip("dlib", reason="the face pipeline's extra is not installed")

LFW_CROP = (60, 60, 190, 190)


def _photos(lfw_root, n_people=3, n_per_person=4):
    people = sorted(p for p in lfw_root.iterdir() if p.is_dir())[:n_people]
    return {p.name: sorted(p.glob("*.jpg"))[:n_per_person] for p in people}


def _crop(photo):
    return np.asarray(photo.crop(LFW_CROP).resize((48, 48), Image.Resampling.LANCZOS), float)


# ------------------------------------------------------------- in memory
def test_as_rgb_uint8_takes_every_kind_of_image():
    grey = np.full((20, 30), 7, np.uint8)
    assert as_rgb_uint8(grey).shape == (20, 30, 3)
    assert as_rgb_uint8(grey[:, :, None]).shape == (20, 30, 3)
    rgba = np.zeros((5, 5, 4), np.uint8)
    assert as_rgb_uint8(rgba).shape == (5, 5, 3)
    deep = np.full((4, 4), 65535, np.uint16)
    assert as_rgb_uint8(deep).max() == 255
    assert as_rgb_uint8(np.ones((4, 4), bool)).max() == 255
    assert as_rgb_uint8(np.full((4, 4, 3), 127.6)).max() == 128


@pytest.mark.parametrize(
    "image, message",
    [
        (np.zeros((4, 4, 2)), "shape"),
        (np.zeros(4), "shape"),
        (np.full((4, 4), np.nan), "NaN"),
        (np.full((4, 4), 300.0), "0..255"),
        (np.full((4, 4), -2), "0..255"),
        (np.full((4, 4), "x"), "dtype"),
    ],
)
def test_as_rgb_uint8_rejects_what_is_not_an_image(image, message):
    with pytest.raises(ValueError, match=message):
        as_rgb_uint8(image)


def test_no_face_raises_or_keeps_the_centre():
    noise = np.random.default_rng(0).integers(0, 256, (3, 120, 160, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"no face found in 3 of 3 image\(s\).*upsample=2"):
        FaceAligner().fit_transform(noise)
    with pytest.warns(UserWarning, match="no face found in 3 of 3"):
        kept = FaceAligner(image_size=32, on_missing="center", flatten=True).transform(noise)
    assert kept.shape == (3, 32 * 32 * 3) and kept.dtype == np.uint8


def test_tiny_and_odd_images_are_no_face_not_a_crash():
    images = [
        np.zeros((1, 1, 3), np.uint8),
        np.zeros((3, 500), np.uint8),
        np.full((40, 40, 4), 255, np.uint8),
    ]
    with pytest.warns(UserWarning, match="no face found in 3 of 3"):
        out = FaceAligner(on_missing="center").transform(images)
    assert out.shape == (3, 48, 48, 3)


@pytest.mark.parametrize(
    "X, message",
    [
        (np.zeros((4, 4)), "sequence of images"),
        ([], "no images"),
    ],
)
def test_aligner_bad_input(X, message):
    with pytest.raises(ValueError, match=message):
        FaceAligner().transform(X)


@pytest.mark.parametrize(
    "params",
    [
        {"image_size": 8},
        {"upsample": -1},
        {"upsample": 9},
        {"on_missing": "skip"},
        {"max_side": 10},
        {"framing": "x"},
    ],
)
def test_aligner_bad_parameters(params):
    with pytest.raises(ValueError):
        FaceAligner(**params).fit()


# ------------------------------------------------------------ real photos
def test_aligned_faces_have_the_course_framing(lfw_root):
    photos = [Image.open(f).convert("RGB") for files in _photos(lfw_root).values() for f in files]
    chips = FaceAligner().fit_transform([np.asarray(p) for p in photos])
    assert chips.shape == (len(photos), 48, 48, 3) and chips.dtype == np.uint8
    crops = np.stack([_crop(p) for p in photos])
    # The course's crop of deep-funneled LFW and the aligned chip frame the face
    # alike: closer to each other than the crop is to itself moved by 8 pixels.
    moved = np.stack(
        [_crop(p.transform(p.size, Image.Transform.AFFINE, (1, 0, 8, 0, 1, 0))) for p in photos]
    )
    assert np.abs(chips - crops).mean() < np.abs(moved - crops).mean()


def test_a_turned_photo_is_aligned_upright(lfw_root):
    photo = Image.open(next(iter(_photos(lfw_root).values()))[0]).convert("RGB")
    turned = photo.rotate(25, resample=Image.Resampling.BICUBIC)
    straight, upright = FaceAligner().transform([np.asarray(photo), np.asarray(turned)])
    unaligned = _crop(turned)
    assert (
        np.abs(upright - straight.astype(float)).mean() < 0.5 * np.abs(unaligned - straight).mean()
    )


def test_the_largest_face_is_kept_and_upsample_finds_small_ones(lfw_root):
    files = [f for f in _photos(lfw_root, n_people=2, n_per_person=1).values()]
    big, small = (Image.open(f[0]).convert("RGB") for f in files)
    group = Image.new("RGB", (640, 360), (80, 80, 80))
    group.paste(small.resize((125, 125)), (20, 200))
    group.paste(big, (350, 40))
    alone_big, alone_small, chosen = FaceAligner().transform(
        [np.asarray(big), np.asarray(small), np.asarray(group)]
    )
    assert (
        np.abs(chosen - alone_big.astype(float)).mean()
        < np.abs(chosen - alone_small.astype(float)).mean()
    )
    # A face of about 40 pixels: found only when the photo is doubled first.
    tiny = [np.asarray(big.resize((100, 100)))]
    with pytest.raises(ValueError, match="no face found"):
        FaceAligner(upsample=0).transform(tiny)
    assert FaceAligner(upsample=1).transform(tiny).shape == (1, 48, 48, 3)


@pytest.fixture
def photo_folder(lfw_root, tmp_path):
    """3 LFW people (links to the photos) plus photos in odd formats and without a face."""
    root = tmp_path / "photos"
    people = _photos(lfw_root)
    for name, files in people.items():
        (root / name).mkdir(parents=True)
        for file in files:
            (root / name / file.name).symlink_to(file)
    first, second, third = (root / name for name in people)
    photo = Image.open(next(iter(people.values()))[-1]).convert("RGB")
    photo.convert("L").save(first / "grey.png")
    photo.convert("RGBA").save(first / "rgba.png")
    Image.fromarray(np.asarray(photo.convert("L"), np.uint16) * 257).save(first / "deep.png")
    photo.resize((12, 12)).save(second / "tiny.png")
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (200, 300, 3), np.uint8)).save(
        second / "noise.png"
    )
    return root, third


def test_load_face_folder_detects_and_skips_photos_without_a_face(photo_folder):
    root, _ = photo_folder
    with pytest.warns(UserWarning, match=r"skipped 2 of 17 photo\(s\) .* no face"):
        faces = load_face_folder(root, detect=True, n_jobs=2)
    assert faces.images.shape == (15, 48, 48, 3)
    assert sorted(p.rsplit("/", 1)[-1] for p in faces.skipped) == ["noise.png", "tiny.png"]
    assert faces.n_faces.shape == (15,) and (faces.n_faces >= 1).all()
    assert {"grey.png", "rgba.png", "deep.png"} <= {p.rsplit("/", 1)[-1] for p in faces.filenames}
    assert "detected and aligned" in faces.DESCR


def test_load_face_folder_detect_errors(photo_folder, tmp_path):
    root, third = photo_folder
    (third / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    with pytest.raises(ValueError, match="cannot read image .*broken.jpg"):
        load_face_folder(root, detect=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        faces = load_face_folder(root, detect=True, on_error="skip")
    assert any(p.endswith("broken.jpg") for p in faces.skipped)
    with pytest.raises(ValueError, match="exclude each other"):
        load_face_folder(root, detect=True, crop=LFW_CROP)
    blank = tmp_path / "blank"
    for name in ("a", "b"):
        (blank / name).mkdir(parents=True)
        Image.new("RGB", (100, 100), (20, 120, 20)).save(blank / name / "x.png")
    with pytest.raises(ValueError, match="no face found in any of the 2 photo"):
        load_face_folder(blank, detect=True)


# ------------------------------------------- dlib's chips, for the embedding
def _dlib_own_chip(photo):
    """dlib's own route: the largest face, its 5 landmarks, get_face_chip(150, 0.25)."""
    import dlib

    from facenet_sk.faces._models import face_detector, shape_predictor

    boxes = sorted(face_detector()(photo, 1), key=lambda box: -box.area())
    return dlib.get_face_chip(photo, shape_predictor()(photo, boxes[0]), size=150, padding=0.25)


def test_detect_also_cuts_dlibs_own_chips_from_the_photos(lfw_root, tmp_path):
    people = _photos(lfw_root, n_people=2, n_per_person=2)
    for name, files in people.items():
        (tmp_path / name).mkdir()
        for file in files:
            (tmp_path / name / file.name).symlink_to(file)
    faces = load_face_folder(tmp_path, detect=True)
    assert faces.images.shape == (4, 48, 48, 3)
    assert faces.chips.shape == (4, 150, 150, 3) and faces.chips.dtype == np.uint8
    photos = [np.asarray(Image.open(f).convert("RGB")) for f in faces.filenames]
    # Pixel for pixel dlib's own chips, cut from the photo, not from the 48 px face.
    np.testing.assert_array_equal(faces.chips, np.stack([_dlib_own_chip(p) for p in photos]))
    np.testing.assert_array_equal(
        FaceAligner(image_size=150, framing="dlib").transform(photos), faces.chips
    )
    # The course's 48 px faces are unchanged by the chips.
    np.testing.assert_array_equal(FaceAligner().transform(photos), faces.images)
    # The loader's X alone, unchanged: return_X_y gives the 48 px rows.
    X, _ = load_face_folder(tmp_path, detect=True, return_X_y=True)
    assert X.shape == (4, 48 * 48 * 3)


def test_the_face_rows_take_the_chips(lfw_root):
    from facenet_sk.baselines import face_embedding_baseline, face_embedding_fcnet_baseline
    from facenet_sk.faces import FaceEmbedding

    photos = [
        np.asarray(Image.open(f).convert("RGB"))
        for f in _photos(lfw_root, n_people=1, n_per_person=2).popitem()[1]
    ]
    chips = FaceAligner(image_size=150, framing="dlib").transform(photos)
    assert face_embedding_baseline(framing="dlib")["embed"].framing == "dlib"
    assert face_embedding_fcnet_baseline(framing="dlib")["embed"].framing == "dlib"
    from facenet_sk.faces._models import face_recognizer

    own = np.array([face_recognizer().compute_face_descriptor(chip) for chip in chips])
    np.testing.assert_allclose(FaceEmbedding(framing="dlib").transform(chips), own, atol=1e-4)
