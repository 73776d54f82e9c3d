"""The pretrained face-embedding rows of the comparison: baselines, compare_models, CLI."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from facenet_sk import compare_models
from facenet_sk.baselines import (
    BASELINE_NAMES,
    FACE_BASELINE_NAMES,
    available_baselines,
    face_embedding_baseline,
    face_embedding_fcnet_baseline,
    make_baseline,
)
from facenet_sk.cli import build_parser, main, model_names
from facenet_sk.faces import FaceEmbedding

pytest.importorskip("dlib", reason="the face pipeline's extra is not installed")


def test_face_baselines_are_built_by_name():
    assert available_baselines() == BASELINE_NAMES + FACE_BASELINE_NAMES
    embedding = make_baseline("face_embedding", random_state=3)
    assert isinstance(embedding["embed"], FaceEmbedding) and embedding["logreg"].C == 10
    fcnet = make_baseline("face_embedding_fcnet", random_state=3)
    assert [name for name, _ in fcnet.steps] == ["embed", "scale", "net"]
    assert fcnet["net"].random_state == 3


def test_embedding_rows_beat_chance_by_far_on_real_faces(lfw_small_embeddings):
    faces = lfw_small_embeddings.faces
    X_tr, X_te, y_tr, y_te = train_test_split(
        faces.data, faces.target, test_size=0.25, stratify=faces.target, random_state=0
    )
    table = compare_models(
        {
            "face_embedding": face_embedding_baseline(n_jobs=2),
            "face_embedding_fcnet": face_embedding_fcnet_baseline(n_jobs=2, max_epochs=30),
        },
        X_tr,
        y_tr,
        X_te,
        y_te,
        progress=False,
    )
    # 6 people, 9 training photos each, 48x48 crops: chance is 0.17.
    assert (table["test_accuracy"] >= 0.9).all(), table
    assert table.loc[0, "n_params"] == 6 * 128 + 6


def test_the_embedding_classifier_alone_on_cached_embeddings(lfw_small_embeddings):
    """The classifier step fits on precomputed embeddings (what few-shot curves do)."""
    faces, embeddings = lfw_small_embeddings.faces, lfw_small_embeddings.embeddings
    classifier = face_embedding_baseline()[-1]
    one_each = [np.flatnonzero(faces.target == c)[0] for c in np.unique(faces.target)]
    rest = np.setdiff1d(np.arange(len(faces.target)), one_each)
    classifier.fit(embeddings[one_each], faces.target[one_each])
    assert classifier.score(embeddings[rest], faces.target[rest]) >= 0.85


def test_cli_compare_detects_faces_and_adds_the_embedding_rows(lfw_small, tmp_path, capsys):
    # (The eigenfaces baseline needs 150 training photos: not on 6 x 12 photos.)
    code = main(
        [
            "compare",
            "--data",
            str(lfw_small),
            "--detect",
            "--models",
            "only_fc,face_embedding,face_embedding_fcnet",
            "--epochs",
            "1",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    for name in ("only_fc", "face_embedding", "face_embedding_fcnet"):
        assert name in out
    assert "hint:" not in out  # the face rows are there
    assert (tmp_path / "results.csv").exists()
    # The face rows embed dlib's 150 px chips of the photos, the networks the 48x48 faces.
    table = pd.read_csv(tmp_path / "results.csv")
    assert table.set_index("model").loc["face_embedding", "test_accuracy"] >= 0.9
    args = build_parser().parse_args(["compare", "--baselines", "--models", "cnn"])
    assert model_names(args, ()) == ["cnn", *BASELINE_NAMES, *FACE_BASELINE_NAMES]


def test_cli_compare_hints_at_the_face_rows_on_few_photos_per_person(lfw_small, tmp_path, capsys):
    code = main(
        [
            "compare",
            "--data",
            str(lfw_small),
            "--crop",
            "60,60,190,190",
            "--models",
            "only_fc",
            "--epochs",
            "1",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    hint = [line for line in out.splitlines() if line.startswith("hint:")]
    # 12 photos per person, 70 % of them to train: 8 each.
    assert len(hint) == 1 and "8 training photos per person" in hint[0], out
    assert "0.992" in hint[0] and "--baselines" in hint[0]


def test_cli_detect_with_crop_is_a_clear_error(lfw_small, tmp_path, capsys):
    code = main(
        [
            "compare",
            "--data",
            str(lfw_small),
            "--detect",
            "--crop",
            "60,60,190,190",
            "--models",
            "face_embedding",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 1 and "exclude each other" in capsys.readouterr().err


def test_compare_detect_gives_the_face_rows_the_chips_of_the_same_photos(lfw_small):
    from facenet_sk.cli import _embed_chips
    from facenet_sk.datasets import load_split
    from facenet_sk.faces import ChipLookup, FaceEmbedding

    split = load_split(lfw_small, detect=True, random_state=0)
    faces, chips = split.chips
    assert faces.shape[1] == 48 * 48 * 3 and chips.shape[1:] == (150, 150, 3)
    models = _embed_chips(
        {"face_embedding": face_embedding_baseline(), "only_fc": "left alone"}, faces, chips
    )
    assert models["only_fc"] == "left alone"
    lookup, row = models["face_embedding"][0], models["face_embedding"][1]
    assert isinstance(lookup, ChipLookup) and row.named_steps["embed"].framing == "dlib"
    # Each 48x48 test face becomes the chip of its own photo: dlib's route exactly.
    test_chips = lookup.transform(split.X_test)
    index = [int(np.flatnonzero((faces == x).all(axis=1))[0]) for x in split.X_test]
    np.testing.assert_array_equal(test_chips, chips[index])
    embed = FaceEmbedding(framing="dlib")
    np.testing.assert_allclose(embed.transform(test_chips[:3]), embed.transform(chips[index[:3]]))


def test_chip_lookup_names_a_face_it_does_not_know():
    from facenet_sk.faces import ChipLookup

    faces = np.arange(24, dtype=np.uint8).reshape(4, 6)
    chips = np.arange(4, dtype=np.uint8)[:, None, None, None] * np.ones((4, 2, 2, 3), np.uint8)
    lookup = ChipLookup(faces, chips).fit()
    assert lookup.transform(faces[[3, 0, 3]])[:, 0, 0, 0].tolist() == [3, 0, 3]
    assert lookup.transform(faces.astype(np.float32))[:, 0, 0, 0].tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="row 1 of X is not one of the faces"):
        lookup.transform(np.stack([faces[0], faces[0] + 1]))
    with pytest.raises(ValueError, match="rows of 5 values"):
        lookup.transform(faces[:, :5])
    with pytest.raises(ValueError, match="4 faces but 3 chips"):
        ChipLookup(faces, chips[:3]).transform(faces)
