"""Hostile input, fed through the public API and the command line.

Person names are folder names: whoever hands over a folder of photos chooses
them. Files come damaged (cut short by a full disk or a broken download) or
crafted. What must hold, for every feature that reads them or writes results:
nothing of the user's is lost, a name cannot act in a result file, and an
error is one clear line. New loaders and new result files belong here too.
"""

import csv
import hashlib
import html
import re
import tarfile
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sklearn.dummy import DummyClassifier

from facenet_sk import FCNetClassifier
from facenet_sk._atomic import MANIFEST
from facenet_sk.cli import main
from facenet_sk.datasets import (
    DamagedArchiveError,
    fetch_lfw_faces,
    load_eight_faces,
    load_face_folder,
    make_synthetic_faces,
)
from facenet_sk.report import FORMULA_STARTS, per_person_table, write_report

#: Names an attacker (or an unlucky user) gives to person folders.
HOSTILE_NAMES = [
    '=HYPERLINK("evil.example","click")',
    "=cmd|' calc'!A0",
    "@SUM(1+1)",
    "+1+2",
    "-2+3",
    "\tTAB",
    "\rCR",
    "a|b",
    "two\nlines",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "back\\|slash",
    "../../etc",
    "x" * 300,
    "Zoë Saldaña 李小龍 ☃",
    "accuracy",
    "macro avg",
    "&amp;",
    "-1",
    "   ",
    "$\\undefined{x}$",
    "50% $5",
]
#: The same, as folder names a file system takes (no '/', at most 255 bytes).
FOLDER_NAMES = [
    n.replace("/", "%2F")[:200] for n in HOSTILE_NAMES if n.strip() and n not in (".", "..")
]

names = st.one_of(
    st.sampled_from(HOSTILE_NAMES),
    st.builds(
        lambda start, body: start + body,
        st.sampled_from(list(FORMULA_STARTS) + ["", "|", "<", "[", "\\", "\n"]),
        st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
    ),
)
FAST = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _csv_cells(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _markdown_tables(markdown):
    """Each Markdown table as rows of cells, split on the pipes a renderer splits on."""
    tables, rows = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            # A pipe after an odd number of backslashes is escaped.
            rows.append(re.split(r"(?<!\\)(?:\\\\)*\|", line.strip())[1:-1])
        elif rows:
            tables.append(rows)
            rows = []
    return tables


def _check_result_files(out, people):
    """No CSV cell starts a formula, no Markdown name breaks its table or carries
    HTML, and report.html shows no name unescaped."""
    for name in ("results.csv", "per_person.csv"):
        if not (out / name).exists():
            continue
        for row in _csv_cells(out / name):
            for cell in row:
                if cell.startswith(FORMULA_STARTS):
                    float(cell)  # only a genuine (negative) number may
    markdown = (out / "results.md").read_text(encoding="utf-8")
    for table in _markdown_tables(markdown):
        assert len({len(row) for row in table}) == 1, table
    assert not re.search(r"<[a-zA-Z/!]", markdown), "raw HTML in results.md"
    page = (out / "report.html").read_text(encoding="utf-8")
    for person in people:
        if re.search(r"<[a-zA-Z/!]", person):
            assert person not in page and html.escape(person, quote=False) in page


# ------------------------------------------------------------ names, API
@FAST
@given(people=st.lists(names, min_size=2, max_size=5, unique=True))
def test_any_person_names_are_inert_in_every_result_file(people, tmp_path_factory):
    n = len(people)
    X, y = np.repeat(np.eye(n), 2, axis=0), np.repeat(np.arange(n), 2)
    models = {"dummy": DummyClassifier(strategy="most_frequent").fit(X, y)}
    table = per_person_table(models, X, y, target_names=people)
    assert table["person"].tolist() == people  # every name its own row, as given
    results = pd.DataFrame({"model": ["dummy"], "test_accuracy": [1 / n]})
    out = tmp_path_factory.mktemp("names")
    write_report(
        results,
        out,
        per_person=table,
        notes=[f"data: folder {people[0]}"],
        sections={"data": {"people": ", ".join(people)}},
    )
    _check_result_files(out, people)
    rows = _csv_cells(out / "per_person.csv")[1:]
    assert len(rows) == n  # no phantom person, none lost
    for row, person in zip(rows, people):
        assert row[1] == ("'" + person if person.startswith(FORMULA_STARTS) else person)


# ------------------------------------------------------------ names, CLI
@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory):
    """One sub-folder per hostile name, 6 small synthetic faces each."""
    root = tmp_path_factory.mktemp("hostile_people")
    faces = make_synthetic_faces(
        n_people=len(FOLDER_NAMES), n_per_person=6, image_size=16, random_state=1
    )
    for label, name in enumerate(FOLDER_NAMES):
        (root / name).mkdir()
        for i, image in enumerate(faces.images[faces.target == label]):
            Image.fromarray(image).save(root / name / f"{i}.png")
    return root


def test_the_command_line_keeps_hostile_folder_names_inert(hostile_folder, tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        main(
            [
                "compare",
                "--data",
                str(hostile_folder),
                "--models",
                "only_fc,logistic_regression",
                "--epochs",
                "1",
                "--valid-size",
                "0.34",
                "--test-size",
                "0.34",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    ), capsys.readouterr().err
    _check_result_files(out, FOLDER_NAMES)
    people = {row[1] for row in _csv_cells(out / "per_person.csv")[1:]}
    # Every person, but those of hidden folders ("..%2F..%2Fetc"), which are ignored.
    assert len(people) == len([n for n in FOLDER_NAMES if not n.startswith(".")])
    # Nothing was written outside --out, whatever the names say.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# ------------------------------------------------------------ --overwrite
def _digests(folder):
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()
    }


def test_overwrite_loses_nothing_of_the_users(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mine = {
        "holiday.png": b"\x89PNG mine",
        "IMG_0001.PNG": b"mine too",
        "notes.txt": b"notes",
        "results.csv.bak": b"an old copy",
        ".hidden": b"hidden",
        "faces.jpeg": b"jpeg",
    }
    for name, data in mine.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "accuracy.png").write_bytes(b"in a sub-folder")
    argv = [
        "compare",
        "--max-people",
        "3",
        "--max-per-person",
        "21",
        "--epochs",
        "1",
        "--out",
        ".",
        "--quiet",
        "--overwrite",
    ]
    for models in ("only_fc", "logistic_regression"):
        assert main([*argv, "--models", models]) == 0, capsys.readouterr().err
        for name, data in mine.items():
            assert (tmp_path / name).read_bytes() == data, name
        assert (tmp_path / "sub" / "accuracy.png").read_bytes() == b"in a sub-folder"
    # A file of the user's that a run would replace stops the run before it starts.
    (tmp_path / MANIFEST).unlink()
    before = _digests(tmp_path)
    assert main([*argv, "--models", "only_fc"]) == 2
    err = capsys.readouterr().err
    assert "did not write" in err and err.count("\n") == 1
    assert _digests(tmp_path) == before


# ------------------------------------------------------------ damaged files
@pytest.fixture(scope="module")
def picture_bytes():
    image = Image.fromarray(
        make_synthetic_faces(n_people=2, n_per_person=3, image_size=48).images[0]
    )
    encoded = {}
    for fmt in ("JPEG", "PNG"):
        import io

        buffer = io.BytesIO()
        image.save(buffer, format=fmt)
        encoded[fmt] = buffer.getvalue()
    return encoded


@FAST
@given(fmt=st.sampled_from(["JPEG", "PNG"]), cut=st.floats(0.0, 0.95))
def test_a_cut_image_is_a_one_line_error_or_skipped(picture_bytes, tmp_path_factory, fmt, cut):
    root = tmp_path_factory.mktemp("cut")
    for person in ("ann", "bob"):
        (root / person).mkdir()
        for i in range(3):
            (root / person / f"{i}.{fmt.lower()}").write_bytes(picture_bytes[fmt])
    damaged = root / "bob" / f"0.{fmt.lower()}"
    damaged.write_bytes(picture_bytes[fmt][: int(len(picture_bytes[fmt]) * cut)])
    try:
        faces = load_face_folder(root)
    except ValueError as exc:
        assert str(damaged) in str(exc) and "\n" not in str(exc)
        failed = True
    else:
        # Pillow decodes some cut JPEGs, grey below the cut: a picture, not an error.
        assert len(faces.target) == 6
        failed = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        skipped = load_face_folder(root, on_error="skip")
    if failed:
        assert list(skipped.skipped) == [str(damaged)] and len(skipped.target) == 5
        assert any("skipped 1 unreadable" in str(w.message) for w in caught)
    else:
        assert len(skipped.target) == 6


@FAST
@given(cut=st.floats(0.0, 0.99))
def test_a_cut_hdf5_file_is_a_one_line_error(tmp_path_factory, write_eight_faces_h5, cut):
    folder = tmp_path_factory.mktemp("h5")
    good = write_eight_faces_h5(folder / "good.hdf5").read_bytes()
    path = folder / "cut.hdf5"
    path.write_bytes(good[: int(len(good) * cut)])
    with pytest.raises((ValueError, OSError)) as info:
        load_eight_faces(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


@pytest.fixture(scope="module")
def lfw_archive(tmp_path_factory):
    """The bytes of a small lfw-funneled.tgz: 4 photos of 2 people."""
    root = tmp_path_factory.mktemp("lfw_src")
    faces = make_synthetic_faces(n_people=2, n_per_person=3, image_size=250, random_state=2)
    for i, (image, label) in enumerate(zip(faces.images[:4], faces.target[:4])):
        folder = root / "lfw_funneled" / f"Person_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"Person_{label}_{i:04d}.jpg", quality=90)
    with tarfile.open(root / "a.tgz", "w:gz") as tar:
        tar.add(root / "lfw_funneled", arcname="lfw_funneled")
    return (root / "a.tgz").read_bytes()


@FAST
@given(cut=st.floats(0.0, 0.98))
def test_a_cut_lfw_archive_is_one_line_and_leaves_nothing_half_done(
    lfw_archive, tmp_path_factory, cut
):
    lfw_home = tmp_path_factory.mktemp("home") / "lfw_home"
    lfw_home.mkdir()
    for name in ("pairsDevTrain.txt", "pairsDevTest.txt", "pairs.txt"):
        (lfw_home / name).write_text("1\n")
    (lfw_home / "lfw-funneled.tgz").write_bytes(lfw_archive[: int(len(lfw_archive) * cut)])
    for _ in range(2):
        with pytest.raises(DamagedArchiveError) as info:
            fetch_lfw_faces(
                data_home=lfw_home.parent, min_faces_per_person=0, download_if_missing=False
            )
        assert "\n" not in str(info.value)
        assert not (lfw_home / "lfw_funneled").exists()
        assert not list(lfw_home.glob(".*partial*"))


def test_a_crafted_weights_file_runs_no_code(tmp_path):
    """load_params reads tensors only; a pickle payload in a .pt file is refused."""
    import torch

    flag = tmp_path / "code_ran"

    class Payload:
        def __reduce__(self):
            return (flag.touch, ())

    crafted = tmp_path / "crafted.pt"
    torch.save({"payload": Payload()}, crafted)
    X, y = make_synthetic_faces(n_people=2, n_per_person=6, image_size=8, return_X_y=True)
    model = FCNetClassifier(max_epochs=1, random_state=0).initialize(X / 255, y)
    with pytest.raises(Exception, match="(?i)weights_only|unpickl"):
        model.load_params(f_params=crafted)
    assert not flag.exists()


# ------------------------------------------------------------ threads
# Concurrent prediction on one fitted model, networks with dropout and batch
# normalization included (issue 25's first item; more in tests/test_predict.py).
@pytest.mark.parametrize(
    "model",
    [
        FCNetClassifier(hidden_layer_sizes=(32,), max_epochs=2, random_state=0),
        FCNetClassifier(
            hidden_layer_sizes=(32,), dropout=0.5, batchnorm=True, max_epochs=2, random_state=0
        ),
    ],
    ids=["plain", "dropout-batchnorm"],
)
def test_threads_predicting_on_one_fitted_model_agree_with_one_thread(
    model, predictions_from_threads
):
    X, y = make_synthetic_faces(n_people=4, n_per_person=30, image_size=12, return_X_y=True)
    X = X.astype(np.float32) / 255
    model.fit(X, y)
    expected = model.predict_proba(X)
    for proba in predictions_from_threads(model, X, calls=5):
        np.testing.assert_allclose(proba, expected, atol=1e-6)
    np.testing.assert_allclose(model.predict_proba(X), expected, atol=1e-6)
