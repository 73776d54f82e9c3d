"""fetch_lfw_faces: LFW through scikit-learn, read from a copy laid out in a temporary data_home.

Nothing here downloads: scikit-learn's download function is replaced by one
that fails, so a test that reached the network would fail instead.
"""

import numpy as np
import pytest
from PIL import Image

from facenet_sk.datasets import LFW_CROP, fetch_lfw_faces, load_face_folder, make_synthetic_faces

BACKGROUND = (0, 0, 255)
#: Photos per person in the laid-out copy.
PEOPLE = {"Ada_Lovelace": 6, "Alan_Turing": 5, "Grace_Hopper": 4, "Kurt_Goedel": 2}


@pytest.fixture(autouse=True)
def no_download(monkeypatch):
    """Any attempt by scikit-learn to download fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("fetch_lfw_faces tried to download")

    monkeypatch.setattr("sklearn.datasets._lfw._fetch_remote", refuse)


def write_lfw_copy(data_home, people=PEOPLE, *, funneled=True):
    """Lay out ``data_home/lfw_home`` as scikit-learn leaves it after a download.

    Each photo is 250x250: a blue background with a synthetic face of its
    person filling the course's framing box (LFW_CROP).
    """
    lfw_home = data_home / "lfw_home"
    folder = lfw_home / ("lfw_funneled" if funneled else "lfw")
    folder.mkdir(parents=True)
    for name in ("pairsDevTrain.txt", "pairsDevTest.txt", "pairs.txt"):
        (lfw_home / name).write_text("1\n")
    if not people:
        return data_home
    faces = make_synthetic_faces(
        n_people=len(people), n_per_person=max(people.values()), image_size=130, random_state=3
    )
    left, top, right, bottom = LFW_CROP
    for label, (person, count) in enumerate(people.items()):
        (folder / person).mkdir()
        for i, face in enumerate(faces.images[faces.target == label][:count]):
            photo = Image.new("RGB", (250, 250), BACKGROUND)
            photo.paste(Image.fromarray(face).resize((right - left, bottom - top)), (left, top))
            photo.save(folder / person / f"{person}_{i + 1:04d}.jpg", quality=95)
    return data_home


@pytest.fixture
def data_home(tmp_path):
    return write_lfw_copy(tmp_path / "data")


def _images_by_person(images, target, target_names):
    """{name: sorted raw bytes of that person's images}, to compare sets of photos."""
    return {
        str(name).replace(" ", "_"): sorted(img.tobytes() for img in images[target == label])
        for label, name in enumerate(target_names)
    }


def test_reads_a_downloaded_copy_offline(data_home):
    faces = fetch_lfw_faces(data_home=data_home, min_faces_per_person=4, download_if_missing=False)
    assert list(faces.target_names) == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    assert faces.images.shape == (15, 48, 48, 3) and faces.images.dtype == np.uint8
    assert faces.data.shape == (15, 48 * 48 * 3)
    np.testing.assert_array_equal(faces.data[3], faces.images[3].ravel())
    assert faces.target.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(faces.target), [6, 5, 4])
    assert faces.path == data_home / "lfw_home"
    assert "3 people" in faces.DESCR and "15 images" in faces.DESCR
    # The default framing cuts the face out: no blue background is left.
    assert faces.images[..., 2].astype(int).mean() < 200
    blue = np.all(np.abs(faces.images.astype(int) - BACKGROUND) < 40, axis=-1)
    assert blue.mean() < 0.01


def test_same_pixels_as_load_face_folder_on_the_same_photos(data_home):
    faces = fetch_lfw_faces(data_home=data_home, min_faces_per_person=4, image_size=32)
    folder = load_face_folder(
        data_home / "lfw_home" / "lfw_funneled",
        crop=LFW_CROP,
        image_size=32,
        min_faces_per_person=4,
    )
    assert _images_by_person(faces.images, faces.target, faces.target_names) == _images_by_person(
        folder.images, folder.target, folder.target_names
    )


def test_whole_photo_and_other_sizes(data_home):
    faces = fetch_lfw_faces(data_home=data_home, min_faces_per_person=2, crop=None, image_size=50)
    assert faces.images.shape == (17, 50, 50, 3)
    corners = faces.images[:, [0, 0, -1, -1], [0, -1, 0, -1]].astype(int)
    assert np.all(np.abs(corners - BACKGROUND) < 40)  # the blue background is kept
    centre = fetch_lfw_faces(data_home=data_home, min_faces_per_person=2, crop="center")
    assert centre.images.shape == (17, 48, 48, 3)


def test_min_faces_and_max_people_select_people(data_home):
    everyone = fetch_lfw_faces(data_home=data_home, min_faces_per_person=0)
    assert len(everyone.target_names) == 4 and len(everyone.target) == 17
    top_two = fetch_lfw_faces(data_home=data_home, min_faces_per_person=0, max_people=2)
    assert list(top_two.target_names) == ["Ada Lovelace", "Alan Turing"]
    np.testing.assert_array_equal(np.bincount(top_two.target), [6, 5])
    X, y = fetch_lfw_faces(data_home=data_home, min_faces_per_person=5, return_X_y=True)
    assert X.shape == (11, 6912) and sorted(set(y)) == [0, 1]


def test_without_a_copy_and_no_download_the_error_says_what_is_missing(tmp_path):
    with pytest.raises(
        FileNotFoundError,
        match=r"no copy of LFW in .*lfw_home.*pairs\.txt"
        r".*lfw_funneled.*download_if_missing=False",
    ):
        fetch_lfw_faces(data_home=tmp_path, download_if_missing=False)


def test_a_copy_without_the_pairs_files_is_not_a_copy(data_home):
    (data_home / "lfw_home" / "pairs.txt").unlink()
    with pytest.raises(FileNotFoundError, match="pairs.txt"):
        fetch_lfw_faces(data_home=data_home, download_if_missing=False)


def test_a_failed_download_says_where_a_copy_goes(tmp_path, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OSError("[Errno 101] Network is unreachable")

    monkeypatch.setattr("sklearn.datasets._lfw._fetch_remote", unreachable)
    with pytest.raises(OSError, match=r"could not download LFW \(.*unreachable\).*lfw_home"):
        fetch_lfw_faces(data_home=tmp_path)


def test_a_copy_scikit_learn_downloaded_is_found(tmp_path, monkeypatch):
    sklearn_home = write_lfw_copy(tmp_path / "scikit_learn_data")
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(sklearn_home))
    monkeypatch.setenv("FACENET_SK_DATA", str(tmp_path / "ours"))
    faces = fetch_lfw_faces(min_faces_per_person=4, download_if_missing=False)
    assert faces.path == sklearn_home / "lfw_home" and len(faces.target) == 15
    # A copy in facenet_sk's own folder comes first.
    write_lfw_copy(tmp_path / "ours", {"A_B": 3, "C_D": 3})
    assert fetch_lfw_faces(min_faces_per_person=0).path == tmp_path / "ours" / "lfw_home"


def test_the_original_unfunneled_photos(tmp_path):
    home = write_lfw_copy(tmp_path, {"A_B": 2, "C_D": 3}, funneled=False)
    faces = fetch_lfw_faces(data_home=home, min_faces_per_person=0, funneled=False)
    assert list(faces.target_names) == ["A B", "C D"]
    with pytest.raises(FileNotFoundError, match="lfw_funneled"):
        fetch_lfw_faces(data_home=home, download_if_missing=False)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"min_faces_per_person": -1}, "min_faces_per_person must be an integer >= 0"),
        ({"max_people": 1}, "max_people must be an integer >= 2 or None"),
        ({"image_size": 0}, "image_size must be an integer >= 1"),
        ({"image_size": 4.5}, "image_size must be an integer"),
        ({"crop": (10, 10, 5, 50)}, "crop box .* is empty"),
        ({"crop": "middle"}, "crop must be None, 'center' or a box"),
    ],
)
def test_bad_arguments_are_named(data_home, params, message):
    with pytest.raises(ValueError, match=message):
        fetch_lfw_faces(data_home=data_home, **params)


def test_too_few_people_is_an_error(data_home):
    with pytest.raises(ValueError, match="no person with min_faces_per_person=7"):
        fetch_lfw_faces(data_home=data_home, min_faces_per_person=7)
    with pytest.raises(
        ValueError,
        match=r"1 person\(s\) with min_faces_per_person=6.*"
        "at least 2 people",
    ):
        fetch_lfw_faces(data_home=data_home, min_faces_per_person=6)


def test_the_command_line_compares_models_on_lfw(data_home, tmp_path, capsys, monkeypatch):
    from facenet_sk.cli import main

    out = tmp_path / "results"
    code = main(
        [
            "compare",
            "--data",
            "lfw",
            "--data-home",
            str(data_home),
            "--min-faces",
            "4",
            "--valid-size",
            "0.25",
            "--test-size",
            "0.25",
            "--models",
            "logistic_regression",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert f"data: LFW ({data_home / 'lfw_home'}) (3 people, 15 images" in printed.out
    assert (out / "results.csv").is_file()

    def offline(*args, **kwargs):
        raise OSError("offline")

    monkeypatch.setattr("sklearn.datasets._lfw._fetch_remote", offline)
    code = main(
        [
            "compare",
            "--data",
            "lfw",
            "--data-home",
            str(tmp_path / "empty"),
            "--models",
            "logistic_regression",
            "--out",
            str(tmp_path / "none"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "could not download LFW (offline)" in err and "no copy of LFW" in err


def test_detect_aligns_the_faces_of_real_photos(lfw_root, tmp_path):
    pytest.importorskip("dlib", reason="the face pipeline's extra is not installed")
    from facenet_sk.faces import FaceAligner

    folder = tmp_path / "lfw_home" / "lfw_funneled"
    write_lfw_copy(tmp_path, {})  # the metadata files and an empty photo folder
    photos = {}
    for person in sorted(p for p in lfw_root.iterdir() if p.is_dir())[:2]:
        (folder / person.name).mkdir()
        for file in sorted(person.glob("*.jpg"))[:3]:
            (folder / person.name / file.name).write_bytes(file.read_bytes())
            photos.setdefault(person.name.replace("_", " "), []).append(
                np.asarray(Image.open(file).convert("RGB"))
            )
    faces = fetch_lfw_faces(data_home=tmp_path, min_faces_per_person=0, detect=True)
    assert faces.images.shape == (6, 48, 48, 3) and faces.detected.all()
    assert "faces detected and aligned" in faces.DESCR
    for name in faces.target_names:
        expected = FaceAligner().transform(photos[name])
        assert _images_by_person(faces.images, faces.target, faces.target_names)[
            name.replace(" ", "_")
        ] == sorted(e.tobytes() for e in expected)


def test_detect_keeps_the_crop_of_photos_without_a_face(data_home):
    pytest.importorskip("dlib", reason="the face pipeline's extra is not installed")
    for file in (data_home / "lfw_home" / "lfw_funneled" / "Kurt_Goedel").iterdir():
        Image.new("RGB", (250, 250), (120, 130, 140)).save(file)  # no face in it
    with pytest.warns(UserWarning, match=r"no face found in (\d+) of 17 LFW photo"):
        faces = fetch_lfw_faces(data_home=data_home, min_faces_per_person=0, detect=True)
    goedel = faces.target == list(faces.target_names).index("Kurt Goedel")
    assert not faces.detected[goedel].any()
    grey = np.abs(faces.images[goedel].astype(int) - (120, 130, 140)).max()
    assert grey <= 2  # the crop of a flat grey photo
    assert faces.images.shape == (17, 48, 48, 3)


# ------------------------------------------------------------- the archive
def _pack(data_home, *, cut=None, extra_members=()):
    """Turn the laid-out copy's photo folder into lfw-funneled.tgz, as scikit-learn
    finds it before extracting; ``cut`` keeps only that fraction of its bytes."""
    import io
    import shutil
    import tarfile

    lfw_home = data_home / "lfw_home"
    archive = lfw_home / "lfw-funneled.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(lfw_home / "lfw_funneled", arcname="lfw_funneled")
        for name, data in extra_members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    shutil.rmtree(lfw_home / "lfw_funneled")
    if cut is not None:
        data = archive.read_bytes()
        archive.write_bytes(data[: int(len(data) * cut)])
    return archive


def _left_in(lfw_home):
    # (scikit-learn's data folder may also hold its own .gitignore.)
    return sorted(p.name for p in lfw_home.iterdir() if p.name != ".gitignore")


def test_an_archive_is_extracted_then_read(data_home):
    _pack(data_home)
    faces = fetch_lfw_faces(data_home=data_home, min_faces_per_person=4, download_if_missing=False)
    assert len(faces.target) == 15
    lfw_home = data_home / "lfw_home"
    # The photos in place, no temporary folder or marker left; the archive gone, as
    # scikit-learn leaves it (beside its joblib cache).
    assert [n for n in _left_in(lfw_home) if not n.startswith("pairs")] == [
        "joblib",
        "lfw_funneled",
    ]


def test_a_truncated_archive_is_one_clear_error_every_time(data_home, tmp_path, capsys):
    from facenet_sk.cli import main
    from facenet_sk.datasets import DamagedArchiveError

    archive = _pack(data_home, cut=0.45)
    lfw_home = data_home / "lfw_home"
    for _ in range(2):  # the second run finds no half-extracted folder to take for a copy
        with pytest.raises(DamagedArchiveError, match="damaged or incomplete") as info:
            fetch_lfw_faces(data_home=data_home, download_if_missing=False)
        assert isinstance(info.value, OSError) and "\n" not in str(info.value)
        assert str(archive) in str(info.value)
        assert _left_in(lfw_home) == [
            "lfw-funneled.tgz",
            "pairs.txt",
            "pairsDevTest.txt",
            "pairsDevTrain.txt",
        ]
    for _ in range(2):
        assert (
            main(
                [
                    "compare",
                    "--data",
                    "lfw",
                    "--data-home",
                    str(data_home),
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
        assert err.startswith("facenet-sk: error: cannot extract") and err.count("\n") == 1
        assert "damaged or incomplete" in err and "cannot identify image" not in err


def test_an_archive_with_a_member_outside_is_refused(data_home, tmp_path):
    from facenet_sk.datasets import DamagedArchiveError

    _pack(
        data_home,
        extra_members=[
            ("../escaped.txt", b"outside"),
            ("lfw_funneled/../../escaped2.txt", b"outside"),
        ],
    )
    with pytest.raises(DamagedArchiveError, match="cannot extract") as info:
        fetch_lfw_faces(data_home=data_home, download_if_missing=False)
    assert "\n" not in str(info.value)
    for folder in (data_home, data_home / "lfw_home", tmp_path):
        assert not (folder / "escaped.txt").exists() and not (folder / "escaped2.txt").exists()
    assert not (data_home / "lfw_home" / "lfw_funneled").exists()


def test_a_folder_half_extracted_by_an_interrupted_run_is_not_a_copy(data_home, monkeypatch):
    """scikit-learn extracts what it downloads in place: a run stopped meanwhile (Ctrl-C,
    a killed process) leaves part of the photos; the next run must not read them."""
    import sklearn.datasets._lfw as sk_lfw

    lfw_home = data_home / "lfw_home"
    archive = _pack(data_home)
    complete = archive.read_bytes()
    archive.unlink()

    def download_then_stop(target, dirname, **kwargs):
        (lfw_home / target.filename).write_bytes(complete)
        import tarfile

        with tarfile.open(lfw_home / target.filename) as tar:  # a part, then Ctrl-C
            members = [m for m in tar.getmembers() if "Ada" in m.name]
            tar.extractall(lfw_home, members=members, filter="data")
        raise KeyboardInterrupt

    monkeypatch.setattr(sk_lfw, "_fetch_remote", download_then_stop)
    with pytest.raises(KeyboardInterrupt):
        fetch_lfw_faces(data_home=data_home, min_faces_per_person=0)
    assert (lfw_home / "lfw_funneled" / "Ada_Lovelace").is_dir()  # a part of the photos
    # The next run, offline, extracts the whole archive again and reads every person.
    faces = fetch_lfw_faces(data_home=data_home, min_faces_per_person=0, download_if_missing=False)
    assert len(faces.target_names) == 4 and len(faces.target) == 17


def test_a_half_extracted_folder_without_its_archive_is_no_copy(data_home, monkeypatch):
    import sklearn.datasets._lfw as sk_lfw

    lfw_home = data_home / "lfw_home"
    _pack(data_home).unlink()

    def stop_half_way(target, dirname, **kwargs):
        (lfw_home / "lfw_funneled" / "Ada_Lovelace").mkdir(parents=True)
        raise KeyboardInterrupt

    monkeypatch.setattr(sk_lfw, "_fetch_remote", stop_half_way)
    with pytest.raises(KeyboardInterrupt):
        fetch_lfw_faces(data_home=data_home)
    with pytest.raises(FileNotFoundError, match="no copy of LFW"):
        fetch_lfw_faces(data_home=data_home, download_if_missing=False)
