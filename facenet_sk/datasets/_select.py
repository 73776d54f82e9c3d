"""One call from a data source name to a train / valid / test split, as the
``facenet-sk`` command, the benchmarks and scripts choose their data."""

from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch, check_random_state


def _check_count(name, value, low):
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, Integral) or value < low
    ):
        raise ValueError(f"{name} must be None or an integer >= {low}, got {value!r}")


def _check_fraction(name, value):
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 < value < 1:
        raise ValueError(f"{name} must be a fraction in (0, 1), got {value!r}")


def _cap_per_person(target, subset, max_per_person, rng):
    """Indices keeping at most ``max_per_person`` images of each person.

    Each person keeps a random sample of their images (not the first files,
    which may come from one photo session); a fixed split keeps its
    proportions: every subset of a person is cut in the same ratio.
    """
    keep = []
    for person in np.unique(target):
        mine = np.flatnonzero(target == person)
        if len(mine) <= max_per_person:
            keep.append(mine)
            continue
        parts = (
            [mine] if subset is None else [mine[subset[mine] == s] for s in np.unique(subset[mine])]
        )
        for part in parts:
            n = max(1, round(max_per_person * len(part) / len(mine)))
            keep.append(rng.permutation(part)[:n])
    return np.sort(np.concatenate(keep))


def load_split(
    data="synthetic",
    *,
    crop=None,
    detect=False,
    min_faces_per_person=None,
    max_people=None,
    max_per_person=None,
    valid_size=0.1,
    test_size=0.25,
    random_state=0,
    data_home=None,
):
    """Load a face data set by name and split it into train, valid and test parts.

    The synthetic faces and the course's HDF5 file come with their own
    fixed split (250/50/50 images per person); a folder of photos is split
    with :func:`~facenet_sk.train_valid_test_split`, stratified by person.

    Parameters
    ----------
    data : {"synthetic", "eight-faces", "lfw"} or path-like, default="synthetic"
        The built-in synthetic faces, the course's 8 faces file (downloaded
        when missing), Labeled Faces in the Wild (:func:`fetch_lfw_faces`,
        downloaded when missing) or a folder with one sub-folder of images
        per person.
    crop : None, "center" or (left, top, right, bottom), default=None
        For a folder or LFW: the box cut from each photo before resizing
        (LFW: :data:`LFW_CROP` when None).
    detect : bool, default=False
        For a folder or LFW: find, align and cut the largest face of each
        photo instead (see :func:`load_face_folder`; needs ``facenet_sk[faces]``).
    min_faces_per_person : int, default=None
        For a folder or LFW: keep only the people with at least this many
        images (None: 0 for a folder, 70 for LFW, its 7 largest people).
    max_people : int, default=None
        Keep at most this many people (for the synthetic faces: generate
        this many; for a folder or the 8 faces: those with the most images).
    max_per_person : int, default=None
        Keep at most this many images of each person, drawn at random with
        ``random_state``; a fixed split keeps its proportions.
    valid_size, test_size : float, default=0.1 and 0.25
        For a folder: fractions of the images held out for validation and test.
    random_state : int, default=0
        Seed of the synthetic faces, the image sample and the split.
    data_home : path-like, default=None
        Folder of downloaded data (see :func:`get_data_home`).

    Returns
    -------
    sklearn.utils.Bunch
        ``X_train``, ``y_train``, ``X_valid``, ``y_valid``, ``X_test``,
        ``y_test`` (flat uint8 rows and int labels), ``target_names``,
        ``description`` (one line for people), ``image_shape`` and ``info``:
        a dict with the source, path, people, images per person, crop,
        image size, split and seed, for reports.

    Examples
    --------
    >>> from facenet_sk.datasets import load_split
    >>> split = load_split("synthetic", max_people=3, max_per_person=35)
    >>> len(split.y_train), len(split.y_valid), len(split.y_test)
    (75, 15, 15)
    >>> split.description
    'synthetic faces (3 people, 25/5/5 per person)'
    """
    from ._eight_faces import load_eight_faces
    from ._folder import load_face_folder
    from ._synthetic import make_synthetic_faces

    _check_count("max_people", max_people, 2)
    _check_count("max_per_person", max_per_person, 3)
    _check_fraction("valid_size", valid_size)
    _check_fraction("test_size", test_size)
    if valid_size + test_size >= 1:
        raise ValueError(
            f"valid_size={valid_size} and test_size={test_size} leave no images "
            "for training: their sum must be below 1"
        )
    rng = check_random_state(random_state)
    if isinstance(data, str) and data == "synthetic":
        faces = make_synthetic_faces(
            n_people=max_people or 8, n_per_person=max_per_person or 350, random_state=random_state
        )
        source, path = "synthetic", None
    elif isinstance(data, str) and data == "eight-faces":
        faces = load_eight_faces(subset="all", data_home=data_home)
        source, path = "eight-faces", str(faces.get("path", ""))
    elif isinstance(data, str) and data == "lfw":
        from ._lfw import LFW_CROP, fetch_lfw_faces

        # All of LFW is 13,233 photos of 5,749 people: by default its 7 largest.
        faces = fetch_lfw_faces(
            data_home=data_home,
            detect=detect,
            crop=LFW_CROP if crop is None else crop,
            min_faces_per_person=70 if min_faces_per_person is None else min_faces_per_person,
            max_people=max_people,
        )
        source, path = "lfw", str(faces.get("path", ""))
    else:
        faces = load_face_folder(
            data,
            crop=crop,
            detect=detect,
            min_faces_per_person=min_faces_per_person or 0,
            max_people=max_people,
        )
        source, path = "folder", str(Path(data).expanduser())

    keep = np.arange(len(faces.target))
    if source == "eight-faces" and max_people is not None:
        counts = np.bincount(faces.target)
        people = sorted(np.argsort(-counts, kind="stable")[:max_people])
        keep = np.flatnonzero(np.isin(faces.target, people))
    if source != "synthetic" and max_per_person is not None:
        subset = faces.subset[keep] if "subset" in faces else None
        keep = keep[_cap_per_person(faces.target[keep], subset, max_per_person, rng)]
    X, y = faces.data[keep], faces.target[keep]
    names = np.asarray(faces.target_names)
    # Labels 0..k-1 even when people were dropped, so that target_names lines up.
    present, y = np.unique(y, return_inverse=True)
    names = names[present]
    image_shape = tuple(int(s) for s in faces.images.shape[1:])

    if "subset" in faces:
        subset = faces.subset[keep]
        parts = [subset == s for s in ("train", "valid", "test")]
        X_tr, X_va, X_te = (X[p] for p in parts)
        y_tr, y_va, y_te = (y[p] for p in parts)
        split_text = "the data's fixed split"
    else:
        from ..split import train_valid_test_split

        X_tr, X_va, X_te, y_tr, y_va, y_te = train_valid_test_split(
            X, y, valid_size=valid_size, test_size=test_size, random_state=random_state
        )
        split_text = f"stratified random split, valid_size={valid_size}, test_size={test_size}"

    per_person = np.bincount(y, minlength=len(names))
    sizes = [len(y_tr), len(y_va), len(y_te)]
    if source == "synthetic":
        per = [int(np.sum(y_part == 0)) for y_part in (y_tr, y_va, y_te)]
        description = (
            f"synthetic faces ({len(names)} people, {per[0]}/{per[1]}/{per[2]} per person)"
        )
    elif source == "eight-faces":
        description = f"8 faces ({path}; {len(names)} people, {'/'.join(map(str, sizes))})"
    else:
        where = f"LFW ({path})" if source == "lfw" else f"folder {path}"
        description = (
            f"{where} ({len(names)} people, {len(y)} images, stratified split "
            f"{'/'.join(map(str, sizes))})"
        )
    info = {
        "source": source,
        "path": path,
        "people": len(names),
        "images": len(y),
        "images per person": (
            f"{per_person.min()}"
            if per_person.min() == per_person.max()
            else f"{per_person.min()} to {per_person.max()}"
        ),
        "crop": "faces detected and aligned"
        if detect
        else "none"
        if crop is None
        else (crop if isinstance(crop, str) else ",".join(map(str, crop))),
        "image size": "x".join(map(str, image_shape)),
        "split": f"{'/'.join(map(str, sizes))} train/valid/test ({split_text})",
        "random_state": random_state,
    }
    if source not in ("folder", "lfw"):
        info.pop("crop")
    if path is None:
        info.pop("path")
    # Detected faces come with dlib's chips of the same photos: the embedding's input.
    chips = (X, faces.chips[keep]) if "chips" in faces else None
    return Bunch(
        X_train=X_tr,
        y_train=y_tr,
        X_valid=X_va,
        y_valid=y_va,
        X_test=X_te,
        y_test=y_te,
        target_names=names,
        description=description,
        image_shape=image_shape,
        info=info,
        chips=chips,
    )
