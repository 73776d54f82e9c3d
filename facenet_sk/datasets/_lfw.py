"""Labeled Faces in the Wild through scikit-learn's fetch_lfw_people, as the loaders' Bunch.

scikit-learn downloads, unpacks and caches LFW; this module asks it for the
whole 250x250 colour photos (so that a face detector sees the full picture)
and cuts or detects the faces the way the other loaders frame them.
"""

import os
import shutil
import tarfile
import tempfile
import warnings
import zlib
from numbers import Integral
from pathlib import Path

import numpy as np
from PIL import Image

from ._bunch import make_bunch
from ._folder import _check_crop
from ._home import get_data_home

#: The box of the 250x250 LFW photos that frames a face like the course's data.
LFW_CROP = (60, 60, 190, 190)

# Files scikit-learn needs in ``lfw_home`` before it reads anything offline.
_LFW_METADATA = ("pairsDevTrain.txt", "pairsDevTest.txt", "pairs.txt")
_LFW_FOLDERS = {True: ("lfw_funneled", "lfw-funneled.tgz"), False: ("lfw", "lfw.tgz")}
# Images converted from scikit-learn's float32 to uint8 at a time: bounds the
# extra memory to one chunk instead of a second copy of the whole set.
_CHUNK = 256

DESCR = """Labeled Faces in the Wild (LFW)
===============================

Photos of famous people collected from the web (University of Massachusetts,
Amherst; http://vis-www.cs.umass.edu/lfw/), read through scikit-learn's
``fetch_lfw_people`` as full 250x250 colour photos, then cut around the face
(or the face detected and aligned) and resized to {size}x{size}.
{n_people} people with at least {min_faces} photos, {n_images} images;
framing: {framing}. Source: {source}.
"""


class DamagedArchiveError(OSError):
    """An LFW archive that cannot be extracted completely (cut short, corrupt, or with a
    member that would land outside its folder); nothing of it was left in place."""


def _incomplete_marker(lfw_home, folder):
    # Present while scikit-learn downloads and extracts into lfw_home: a photo
    # folder beside it was left by a run that stopped half-way.
    return Path(lfw_home) / f".{folder}.incomplete"


def _has_copy(data_home, funneled):
    """True when ``data_home/lfw_home`` holds everything scikit-learn reads offline."""
    lfw_home = Path(data_home) / "lfw_home"
    folder, archive = _LFW_FOLDERS[funneled]
    complete = (lfw_home / folder).is_dir() and not _incomplete_marker(lfw_home, folder).exists()
    return all((lfw_home / name).is_file() for name in _LFW_METADATA) and (
        complete or (lfw_home / archive).is_file()
    )


def _damaged(archive, exc):
    return DamagedArchiveError(
        f"cannot extract LFW from {str(archive)!r} ({type(exc).__name__}: {exc}): the archive "
        "is damaged or incomplete; delete it and fetch LFW again"
    )


def _extract_archive(lfw_home, funneled):
    """Extract ``lfw_home``'s archive into a temporary folder, then rename the photo
    folder into place: an interrupted or failed extraction leaves no partial copy.

    scikit-learn would extract it in place; this runs first, so that it never
    has to. As scikit-learn does, the archive is removed once extracted.
    """
    folder, archive = _LFW_FOLDERS[funneled]
    archive = lfw_home / archive
    for stale in lfw_home.glob(f".{folder}.partial-*"):  # left by a killed run
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(dir=lfw_home, prefix=f".{folder}.partial-"))
    try:
        try:
            with tarfile.open(archive, "r:gz") as tar:
                # The "data" filter refuses members outside tmp, links out of it,
                # devices and special modes.
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, EOFError, zlib.error) as exc:
            raise _damaged(archive, exc) from exc
        if not (tmp / folder).is_dir():
            raise DamagedArchiveError(
                f"cannot extract LFW from {str(archive)!r}: it holds no folder {folder}/"
            )
        os.replace(tmp / folder, lfw_home / folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    archive.unlink()


def _prepare_copy(lfw_home, funneled):
    """Clear a half-extracted photo folder, extract an archive present; return the marker
    of an extraction scikit-learn may now run (None when the folder is complete)."""
    folder, archive = _LFW_FOLDERS[funneled]
    marker = _incomplete_marker(lfw_home, folder)
    if marker.exists():
        shutil.rmtree(lfw_home / folder, ignore_errors=True)
        marker.unlink()
    if (lfw_home / folder).is_dir():
        return None
    if (lfw_home / archive).is_file():
        _extract_archive(lfw_home, funneled)
        return None
    lfw_home.mkdir(parents=True, exist_ok=True)
    marker.touch()
    return marker


def _scikit_learn_data_home():
    # scikit-learn's own default, computed without sklearn.datasets.get_data_home,
    # which would create the folder just to look into it.
    return Path(os.environ.get("SCIKIT_LEARN_DATA", Path("~") / "scikit_learn_data")).expanduser()


def _resolve_data_home(data_home, funneled):
    """The folder whose ``lfw_home`` scikit-learn reads or downloads into.

    Without ``data_home``, facenet_sk's data folder; but a copy that
    scikit-learn already downloaded into its own folder is used rather than
    downloaded a second time.
    """
    if data_home is not None:
        return get_data_home(data_home)
    ours = get_data_home()
    if not _has_copy(ours, funneled) and _has_copy(_scikit_learn_data_home(), funneled):
        return _scikit_learn_data_home()
    return ours


def _missing_message(data_home, funneled):
    lfw_home = Path(data_home) / "lfw_home"
    folder, archive = _LFW_FOLDERS[funneled]
    return (
        f"no copy of LFW in {str(lfw_home)!r}: it needs {', '.join(_LFW_METADATA)} and the "
        f"folder {folder}/ (or the archive {archive}). Call fetch_lfw_faces() with "
        "download_if_missing=True on a machine with the internet (about 240 MB), or "
        "sklearn.datasets.fetch_lfw_people(data_home=...) with the same data_home, "
        "or lay out a copy there by hand"
    )


def _check_int(name, value, minimum, *, allow_none=False):
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(
            f"{name} must be an integer >= {minimum}"
            f"{' or None' if allow_none else ''}, got {value!r}"
        )


def _people_kept(target, target_names, max_people):
    """Labels of the people kept: all, or the ``max_people`` with the most photos."""
    counts = np.bincount(target, minlength=len(target_names))
    labels = np.flatnonzero(counts)
    if max_people is not None:
        # Most photos first, ties broken by name, as load_face_folder does.
        order = sorted(labels, key=lambda label: (-counts[label], target_names[label]))
        labels = np.sort(order[:max_people])
    return labels


def _framed_faces(faces, indices, frame):
    """``frame`` applied to ``faces[indices]``, turned back into the JPEGs' uint8 values.

    scikit-learn returns float32 in 0..1; converting and framing chunk by
    chunk keeps the extra memory to one chunk of photos.
    """
    framed = []
    for start in range(0, len(indices), _CHUNK):
        chunk = faces[indices[start : start + _CHUNK]] * 255.0
        np.rint(chunk, out=chunk)
        np.clip(chunk, 0, 255, out=chunk)
        framed.append(frame(chunk.astype(np.uint8)))
    return np.concatenate(framed)


def _crop_resize(image, crop, image_size):
    img = Image.fromarray(image)
    if crop == "center":
        side = min(img.size)
        left, top = (img.width - side) // 2, (img.height - side) // 2
        img = img.crop((left, top, left + side, top + side))
    elif crop is not None:
        img = img.crop(crop)
    return np.asarray(img.resize((image_size, image_size), Image.Resampling.LANCZOS))


def _detect_or_crop(photos, crop, image_size, upsample, found):
    """Each photo's detected and aligned face, or its ``crop`` where none is found."""
    from ..faces._align import find_face  # the optional face extra, imported when used

    faces = []
    for photo in photos:
        face, _ = find_face(photo, image_size=image_size, upsample=upsample, max_side=None)
        found.append(face is not None)
        faces.append(face if face is not None else _crop_resize(photo, crop, image_size))
    return np.stack(faces)


def fetch_lfw_faces(
    *,
    data_home=None,
    min_faces_per_person=70,
    max_people=None,
    image_size=48,
    crop=LFW_CROP,
    detect=False,
    upsample=1,
    funneled=True,
    download_if_missing=True,
    return_X_y=False,
):
    """Load the Labeled Faces in the Wild photos, downloading them when missing.

    Built on :func:`sklearn.datasets.fetch_lfw_people`, which downloads LFW
    (about 240 MB, once) into ``data_home/lfw_home`` and reads it from there
    offline afterwards. This function asks it for the whole 250x250 colour
    photos and cuts each face with ``crop``, the framing of the course's
    data, before resizing it to ``image_size``; the photos returned are
    those of :func:`load_face_folder` on the same folder.

    Parameters
    ----------
    data_home : path-like, default=None
        Folder that holds (or receives) ``lfw_home/``. By default
        facenet_sk's data folder (see :func:`get_data_home`); when that has
        no copy of LFW but scikit-learn's own data folder
        (``$SCIKIT_LEARN_DATA`` or ``~/scikit_learn_data``) has one, that
        copy is read instead of downloading another.
    min_faces_per_person : int, default=70
        Keep only the people with at least this many photos. 70 gives the 7
        people (1,288 photos) of scikit-learn's face-recognition example;
        20 gives 62 people (3,023 photos).
    max_people : int, default=None
        Keep only the people with the most photos (ties broken by name).
    image_size : int, default=48
        Side of the square images returned.
    crop : None, "center" or (left, top, right, bottom), default=(60, 60, 190, 190)
        Box of the 250x250 photo cut before resizing; the default frames the
        face as the course's images do. ``None`` keeps the whole photo
        (e.g. for a face detector to run on later). With ``detect=True``,
        used only for the photos where no face is found.
    detect : bool, default=False
        Find the face in each photo with dlib's detector, align it by its
        landmarks and cut it with the course's framing, as
        :class:`facenet_sk.faces.FaceAligner` does (the largest face when
        there are several). LFW's photos are centred on a face, so a photo
        where none is found keeps its ``crop``, with a warning that counts
        them; ``detected`` says which. Needs ``pip install
        "facenet_sk[faces]"``.
    upsample : int, default=1
        With ``detect=True``: times each photo is doubled before detection
        (finds smaller faces, 4 times slower per step).
    funneled : bool, default=True
        Read the funneled (aligned) version of LFW, as scikit-learn does by
        default; False reads the original photos.
    download_if_missing : bool, default=True
        Download LFW when no copy is found; otherwise raise
        :class:`FileNotFoundError`.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    sklearn.utils.Bunch or tuple
        ``images`` (n, image_size, image_size, 3) uint8, ``data``,
        ``target`` (n,) int64, ``target_names`` (scikit-learn's, e.g.
        ``"Colin Powell"``), ``path`` (the ``lfw_home`` folder read),
        ``detected`` (n,) bool with ``detect=True`` and ``DESCR``; or
        ``(data, target)``. The photos come in scikit-learn's
        fixed shuffled order.

    Raises
    ------
    FileNotFoundError
        No copy of LFW and ``download_if_missing=False``.
    DamagedArchiveError
        An archive in ``lfw_home`` that cannot be extracted completely (cut
        short, corrupt, or with a member outside its folder): an OSError.
        Archives are extracted into a temporary folder and renamed into place
        when complete, and a photo folder left half-extracted by a stopped
        run is never taken for a copy.
    OSError
        The download failed (the message says where to put a copy by hand).
    ValueError
        Bad arguments, or fewer than 2 people left.

    Notes
    -----
    scikit-learn decodes the selected photos as float32 (750 kB each at
    250x250 colour) and caches them in ``lfw_home`` with joblib, so the
    first call with a given ``min_faces_per_person`` takes a while and the
    next ones read the cache; the returned images are converted back to
    uint8.

    Examples
    --------
    >>> from facenet_sk.datasets import fetch_lfw_faces
    >>> faces = fetch_lfw_faces(min_faces_per_person=70)  # doctest: +SKIP
    >>> faces.images.shape, len(faces.target_names)  # doctest: +SKIP
    ((1288, 48, 48, 3), 7)
    """
    _check_int("min_faces_per_person", min_faces_per_person, 0)
    _check_int("max_people", max_people, 2, allow_none=True)
    _check_int("image_size", image_size, 1)
    _check_int("upsample", upsample, 0)
    crop = _check_crop(crop)
    if detect:
        from ..faces import check_installed

        check_installed()  # before a long download, not after
    home = _resolve_data_home(data_home, bool(funneled))
    if not download_if_missing and not _has_copy(home, bool(funneled)):
        raise FileNotFoundError(
            _missing_message(home, bool(funneled)) + " (download_if_missing=False)"
        )

    from sklearn.datasets import fetch_lfw_people

    lfw_home = home / "lfw_home"
    marker = _prepare_copy(lfw_home, bool(funneled))
    try:
        lfw = fetch_lfw_people(
            data_home=home,
            funneled=bool(funneled),
            resize=1.0,
            slice_=None,
            color=True,
            min_faces_per_person=min_faces_per_person,
            download_if_missing=download_if_missing,
        )
        if marker is not None:
            marker.unlink()  # downloaded and extracted completely
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        # scikit-learn's own extraction of a download (checked by its SHA-256).
        raise _damaged(lfw_home / _LFW_FOLDERS[bool(funneled)][1], exc) from exc
    except ValueError as exc:
        raise ValueError(
            f"LFW in {str(home / 'lfw_home')!r} has no person with "
            f"min_faces_per_person={min_faces_per_person} photos"
        ) from exc
    except OSError as exc:
        if isinstance(exc, FileNotFoundError) and not download_if_missing:
            raise
        raise OSError(
            f"could not download LFW ({exc}); {_missing_message(home, funneled)}"
        ) from exc

    labels = _people_kept(lfw.target, lfw.target_names, max_people)
    if len(labels) < 2:
        raise ValueError(
            f"LFW in {str(home / 'lfw_home')!r} gives {len(labels)} person(s) with "
            f"min_faces_per_person={min_faces_per_person}, max_people={max_people}; "
            "a classifier needs at least 2 people"
        )
    keep = np.flatnonzero(np.isin(lfw.target, labels))
    found, extra = [], {}
    if detect:
        images = _framed_faces(
            lfw.images,
            keep,
            lambda photos: _detect_or_crop(photos, crop, image_size, upsample, found),
        )
        extra["detected"] = np.asarray(found)
        missed = len(found) - sum(found)
        framing = f"faces detected and aligned (upsample={upsample})"
        if missed:
            framing += f"; {missed} photo(s) without a detected face cut with crop={crop!r}"
            warnings.warn(
                f"no face found in {missed} of {len(found)} LFW photo(s); they were "
                f"cut with crop={crop!r} instead (see the 'detected' field)",
                UserWarning,
                stacklevel=2,
            )
    else:
        images = _framed_faces(
            lfw.images,
            keep,
            lambda photos: np.stack([_crop_resize(photo, crop, image_size) for photo in photos]),
        )
        framing = f"crop={crop!r}" if crop is not None else "whole photo"
    target = np.searchsorted(labels, lfw.target[keep])
    target_names = lfw.target_names[labels]
    return make_bunch(
        images,
        target,
        target_names,
        return_X_y=return_X_y,
        path=home / "lfw_home",
        **extra,
        DESCR=DESCR.format(
            size=image_size,
            n_people=len(labels),
            min_faces=min_faces_per_person,
            n_images=len(images),
            framing=framing,
            source=home / "lfw_home",
        ),
    )
