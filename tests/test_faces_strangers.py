"""Strangers rejected on people never seen: NearestFaceClassifier's defaults on real LFW photos.

The documented route (``load_face_folder(detect=True)``, its ``chips`` to
``FaceEmbedding(framing="dlib")``) on ``lfw_more_people`` (LFW people the
default threshold was never chosen on) and on LFW-19; known people and
strangers drawn from disjoint identities, as ``benchmarks/strangers.py``
does on the whole folders.
"""

import os
import sys
import warnings
from pathlib import Path

import pytest

pytest.importorskip("dlib", reason="the face pipeline's extra is not installed")

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from strangers import measure

_DEFAULT_MORE = (
    Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "lfw_more_people"
)


def _more_people_or_skip():
    root = Path(os.environ.get("FACENET_SK_LFW_MORE") or _DEFAULT_MORE)
    if not root.is_dir():
        reason = f"LFW folder {str(root)!r} is absent (set FACENET_SK_LFW_MORE)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI must not skip the real-data tests")
        pytest.skip(reason)
    return root


def _route(source, out, n_per_person):
    """Embeddings of the first photos of every person, through the documented route."""
    from facenet_sk.datasets import load_face_folder
    from facenet_sk.faces import FaceEmbedding

    for person in sorted(p for p in source.iterdir() if p.is_dir()):
        (out / person.name).mkdir()
        for photo in sorted(person.glob("*.jpg"))[:n_per_person]:
            (out / person.name / photo.name).symlink_to(photo)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the few photos where no face is found
        faces = load_face_folder(out, detect=True, n_jobs=2)
    return FaceEmbedding(framing="dlib", n_jobs=2).transform(faces.chips), faces.target


@pytest.mark.slow
def test_strangers_are_rejected_on_people_never_seen(tmp_path):
    # 131 people, 6 photos each (3 to know a person by, 3 to name); 40 draws
    # of 7 known people and 8 strangers.
    embeddings, target = _route(_more_people_or_skip(), tmp_path, 6)
    named, rejected, _, _ = measure(
        embeddings, target, n_known=7, n_strangers=8, n_draws=40, gallery="half", params={}
    )
    assert named >= 0.98 and rejected >= 0.98, (named, rejected)
    # The former default, the nearest photo at the same threshold, names far fewer.
    nearest, _, _, _ = measure(
        embeddings,
        target,
        n_known=7,
        n_strangers=8,
        n_draws=40,
        gallery="half",
        params={"reference": "nearest"},
    )
    assert nearest < named - 0.05, (nearest, named)


@pytest.mark.slow
def test_strangers_are_rejected_on_lfw19(lfw_root, tmp_path):
    embeddings, target = _route(lfw_root, tmp_path, 10)
    named, rejected, _, _ = measure(
        embeddings, target, n_known=10, n_strangers=9, n_draws=40, gallery="half", params={}
    )
    assert named >= 0.98 and rejected >= 0.98, (named, rejected)
