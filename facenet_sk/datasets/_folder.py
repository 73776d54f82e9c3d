"""Faces from a folder: one sub-folder per person, any image Pillow reads."""

import warnings
from numbers import Integral
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from PIL import Image, ImageOps, UnidentifiedImageError

from ._bunch import make_bunch


def _image_extensions():
    # Pillow knows every extension it can decode; anything else (README,
    # PROVENANCE.md, Thumbs.db) is not a picture and is passed over.
    return frozenset(ext.lower() for ext in Image.registered_extensions())


def _check_crop(crop):
    if crop is None or (isinstance(crop, str) and crop == "center"):
        return crop
    try:
        left, top, right, bottom = (int(c) for c in crop)
    except (TypeError, ValueError):
        raise ValueError(
            f"crop must be None, 'center' or a box (left, top, right, bottom), got {crop!r}"
        ) from None
    if right <= left or bottom <= top:
        raise ValueError(f"crop box {crop!r} is empty: it needs left < right and top < bottom")
    return left, top, right, bottom


#: Side of dlib's chips that ``detect=True`` also returns: the embedding's input.
_EMBEDDING_CHIP_SIZE = 150


class _CropOutside(ValueError):
    """A crop box that does not fit a photo: a mistake in the call, never skipped."""


def _open_rgb(path, max_side=None):
    """Decode one image, upright, as an RGB Pillow image.

    With ``max_side``, a JPEG is decoded at a reduced scale that still has at
    least that many pixels on each side (far faster for large photos).
    """
    with Image.open(path) as img:
        if max_side is not None:
            img.draft("RGB", (max_side, max_side))
        img = ImageOps.exif_transpose(img)
        # Palette, grayscale, 16-bit and alpha images all end up as RGB.
        if img.mode in ("I;16", "I;16B", "I;16L", "I"):
            img = img.point(lambda v: v / 256).convert("L")
        elif img.mode == "F":
            img = _float_to_grey(img)
        return img.convert("RGB")


def _float_to_grey(img):
    """A 32-bit float image (mode F) as 8-bit grey levels.

    Values all within 0..1 are intensities (as scientific and HDR tools write
    them) and are scaled to 0..255; otherwise values are grey levels already.
    Either way they are rounded and clipped to 0..255, NaN counting as 0.
    (Pillow's own conversion would read 0..1 as black.)
    """
    values = np.nan_to_num(np.asarray(img, dtype=np.float64), nan=0.0, posinf=255.0, neginf=0.0)
    if values.size and values.min() >= 0.0 and values.max() <= 1.0:
        values = values * 255.0
    return Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8))


def _read_face(path, crop, image_size):
    """Decode one image into (image_size, image_size, 3) uint8."""
    img = _open_rgb(path)
    if crop == "center":
        side = min(img.size)
        left, top = (img.width - side) // 2, (img.height - side) // 2
        img = img.crop((left, top, left + side, top + side))
    elif crop is not None:
        left, top, right, bottom = crop
        if left < 0 or top < 0 or right > img.width or bottom > img.height:
            # Pillow would pad with black, silently: a wrong box, not a face.
            raise _CropOutside(
                f"crop box {crop} reaches outside the {img.width}x{img.height} photo "
                f"{str(path)!r}: it must lie within (0, 0, {img.width}, {img.height})"
            )
        img = img.crop(crop)
    img = img.resize((image_size, image_size), Image.Resampling.LANCZOS)
    return np.asarray(img, dtype=np.uint8)


def _load_file(path, crop, image_size, detect):
    """One file as ``(face or None, n_faces, error or None)``.

    ``detect`` is None, or the (upsample, max_side) of face detection: the
    largest face found is aligned and cut, and ``face`` is the pair (course
    chip, dlib's 150 px chip), or None when there is no face.
    """
    try:
        if detect is None:
            return _read_face(path, crop, image_size), 1, None
        from ..faces._align import find_face

        upsample, max_side = detect
        photo = np.asarray(_open_rgb(path, max_side), dtype=np.uint8)
        # The embedding's 150 px chip is cut from the photo itself, from the
        # same landmarks: resizing the small chip would lose what it needs.
        face, n_faces, chip = find_face(
            photo,
            image_size=image_size,
            upsample=upsample,
            max_side=max_side,
            chip_size=_EMBEDDING_CHIP_SIZE,
        )
        return (None if face is None else (face, chip)), n_faces, None
    except _CropOutside:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        SyntaxError,
        ValueError,
    ) as exc:
        return None, 0, f"cannot read image {str(path)!r}: {exc}"


def _list_people(root):
    """Sorted person folders of ``root`` with their sorted image files."""
    extensions = _image_extensions()
    people = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(
            f
            for f in folder.iterdir()
            if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in extensions
        )
        people[folder.name] = files
    return people


def _select_people(root, people, min_faces_per_person, max_people):
    """Keep the people with enough images (and the ``max_people`` largest), by name."""
    people = {n: f for n, f in people.items() if len(f) >= max(min_faces_per_person, 1)}
    if max_people is not None:
        keep = sorted(people, key=lambda n: (-len(people[n]), n))[:max_people]
        people = {n: people[n] for n in sorted(keep)}
    if len(people) < 2:
        raise ValueError(
            f"face folder {str(root)!r} gives {len(people)} person(s) with "
            f"min_faces_per_person={min_faces_per_person}, max_people={max_people}; "
            "a classifier needs at least 2 people"
        )
    return people


def load_face_folder(
    root,
    *,
    image_size=48,
    crop=None,
    min_faces_per_person=0,
    max_people=None,
    return_X_y=False,
    on_error="raise",
    detect=False,
    upsample=1,
    max_side=1024,
    n_jobs=None,
):
    """Load faces from a folder with one sub-folder per person.

    Parameters
    ----------
    root : path-like
        Folder whose sub-folders are named after the people (sorted names
        become ``target_names``) and hold their images: any format Pillow
        reads (JPEG, PNG, PGM, BMP, ...). Grayscale, palette, 16-bit and RGBA
        images become RGB (float images: 0..1 scaled to 0..255, other values
        clipped to 0..255), EXIF orientation is honoured, and files that are
        not images (by extension) or hidden are ignored.
    image_size : int, default=48
        Side of the square images returned.
    crop : None, "center" or (left, top, right, bottom), default=None
        Box in source pixels to cut before resizing, or ``"center"`` for the
        largest centred square; a box reaching outside a photo is an error.
        For ``lfw_deepfunneled``, ``(60, 60, 190, 190)`` gives face crops
        like the course's.
    min_faces_per_person : int, default=0
        Keep only the people with at least this many images.
    max_people : int, default=None
        Keep only the people with the most images (ties broken by name).
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    on_error : {"raise", "skip"}, default="raise"
        What to do with an image file that cannot be decoded: raise an error
        naming it, or skip it and warn once with the count of skipped files.
    detect : bool, default=False
        Find the face in each photo instead of cutting a fixed box: dlib's
        HOG detector finds the faces, the LARGEST one is kept (in a group
        photo, the person nearest the camera), aligned by its 5 landmarks and
        cut with the course's framing (as ``crop=(60, 60, 190, 190)`` frames
        ``lfw_deepfunneled``), see :class:`facenet_sk.faces.FaceAligner`.
        Photos where no face is found are skipped, listed in ``skipped`` and
        counted in a warning; a folder where no face is found at all is an
        error. From the same landmarks, dlib's own 150x150 chip of each face
        (``dlib.get_face_chip(photo, landmarks, size=150, padding=0.25)``) is
        cut from the photo itself into ``chips``: the input of the face
        embedding (:class:`facenet_sk.faces.FaceEmbedding` with
        ``framing="dlib"``, the face rows of :mod:`facenet_sk.baselines` with
        ``framing="dlib"``), while ``images``/``data`` stay at ``image_size`` for
        the pixel networks. Needs ``pip install "facenet_sk[faces]"``;
        ``crop`` must be None.
    upsample : int, default=1
        With ``detect``: times each photo is doubled before detection (finds
        faces down to about 80, 40, 20 pixels with 0, 1, 2; each step about 4
        times slower).
    max_side : int or None, default=1024
        With ``detect``: larger photos are scaled down to this longer side
        first, which keeps phone photos fast; None keeps every pixel.
    n_jobs : int, default=None
        Worker processes that read (and detect) the photos; -1: every core.

    Returns
    -------
    sklearn.utils.Bunch or tuple
        ``images`` (n, image_size, image_size, 3) uint8, ``data``, ``target``
        (n,) int64, ``target_names``, ``filenames``, ``skipped`` (the files
        left out: unreadable with ``on_error="skip"``, or without a face),
        with ``detect`` also ``n_faces`` (faces found in each kept photo) and
        ``chips`` (n, 150, 150, 3) uint8 (dlib's chips, 67.5 kB a face), and
        ``DESCR``; or ``(data, target)``.

    Examples
    --------
    >>> from facenet_sk.datasets import load_face_folder
    >>> faces = load_face_folder("lfw_deepfunneled", crop=(60, 60, 190, 190),
    ...                          min_faces_per_person=70)  # doctest: +SKIP
    >>> faces.target_names.size, faces.images.shape  # doctest: +SKIP
    (7, (1288, 48, 48, 3))
    """
    root = Path(root).expanduser()
    if not root.exists():
        raise FileNotFoundError(f"face folder {str(root)!r} does not exist")
    if not root.is_dir():
        raise NotADirectoryError(
            f"{str(root)!r} is a file; expected a folder with one sub-folder per person"
        )
    if not isinstance(image_size, Integral) or image_size < 1:
        raise ValueError(f"image_size must be a positive integer, got {image_size!r}")
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    crop = _check_crop(crop)
    if detect and crop is not None:
        raise ValueError(
            "crop and detect=True exclude each other: detection finds the face "
            "and cuts it with the course's framing; leave crop=None"
        )
    if detect:
        if not isinstance(upsample, Integral) or not 0 <= upsample <= 4:
            raise ValueError(f"upsample must be an integer 0..4, got {upsample!r}")
        if max_side is not None and (not isinstance(max_side, Integral) or max_side < 64):
            raise ValueError(f"max_side must be None or an integer >= 64, got {max_side!r}")
        from ..faces._models import check_installed

        check_installed()  # fail before reading any photo

    people = {name: files for name, files in _list_people(root).items() if files}
    if not people:
        raise ValueError(f"face folder {str(root)!r} has no sub-folder with images in it")
    people = _select_people(root, people, min_faces_per_person, max_people)

    files = [(name, file) for name, person_files in people.items() for file in person_files]
    detection = (upsample, max_side) if detect else None
    loaded = Parallel(n_jobs=n_jobs)(
        delayed(_load_file)(file, crop, image_size, detection) for _, file in files
    )
    faces, bad, faceless = {name: [] for name in people}, [], []
    for (name, file), (face, n_faces, error) in zip(files, loaded):
        if error is not None:
            if on_error == "raise":
                raise ValueError(error)
            bad.append(str(file))
        elif face is None:
            faceless.append(str(file))
        else:
            faces[name].append((face, str(file), n_faces))
    if bad:
        warnings.warn(
            f"skipped {len(bad)} unreadable image(s) in {str(root)!r}, e.g. {bad[0]!r}",
            UserWarning,
            stacklevel=2,
        )
    if faceless:
        if len(faceless) == len(files) - len(bad):
            raise ValueError(
                f"no face found in any of the {len(faceless)} photo(s) of {str(root)!r}; "
                f"small faces need a larger upsample (now {upsample})"
            )
        warnings.warn(
            f"skipped {len(faceless)} of {len(files)} photo(s) in {str(root)!r} where no face "
            f"was found, e.g. {faceless[0]!r} (listed in the result's 'skipped')",
            UserWarning,
            stacklevel=2,
        )
    if bad or faceless:
        # Skipped files may take a person below the thresholds: select again.
        faces = _select_people(root, faces, min_faces_per_person, max_people)
    images = [image for items in faces.values() for image, _, _ in items]
    target = [label for label, items in enumerate(faces.values()) for _ in items]
    filenames = [file for items in faces.values() for _, file, _ in items]
    extra = {}
    if detect:
        extra["n_faces"] = np.array([n for items in faces.values() for _, _, n in items])
        extra["chips"] = np.stack([chip for _, chip in images])
        images = [image for image, _ in images]
    how = "faces detected and aligned" if detect else "images"
    return make_bunch(
        np.stack(images),
        target,
        list(faces),
        return_X_y=return_X_y,
        filenames=np.array(filenames),
        skipped=np.array(bad + faceless, dtype=str),
        **extra,
        DESCR=f"Faces read from {root} ({len(faces)} people, {len(images)} {how}).",
    )
