"""Find the largest face in a photo, align it by its landmarks, cut the course's framing or dlib's.

dlib's HOG frontal-face detector finds faces; its 5-point landmark model
(eye corners and the base of the nose) gives the similarity transform that
puts the eyes level and the face at a fixed place and size; the chip is cut
with the course's framing (see ``_framing``) and resized, or cut as dlib cuts
the chips its ResNet takes.
"""

import math

import numpy as np
from PIL import Image

from ._framing import COURSE_SCALE, COURSE_SHIFT_UP, DLIB_PADDING
from ._models import face_detector, import_dlib, shape_predictor

# dlib's chips are cut with this padding (the unit box is then half the chip),
# enough to hold the course's framing, which reaches higher up the forehead.
_WIDE_PADDING = 0.5


def as_rgb_uint8(image):
    """One image in memory as a C-contiguous (height, width, 3) uint8 array.

    Takes grey (h, w) or (h, w, 1), RGB (h, w, 3) and RGBA (h, w, 4) arrays
    (alpha is dropped); uint8 as is, 16-bit integers scaled down by 257,
    booleans to 0/255, other real dtypes as values 0..255.
    """
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(
            f"an image has shape {array.shape}; expected (height, width) grey, "
            "(height, width, 3) RGB or (height, width, 4) RGBA"
        )
    array = array[:, :, :3]
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    elif array.dtype in (np.uint16, np.int32, np.uint32) and array.max(initial=0) > 255:
        # 16-bit photos (PNG, TIFF) hold 0..65535.
        array = array / 257.0
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise ValueError(f"an image has dtype {array.dtype}; expected real pixel values")
    if array.dtype != np.uint8:
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ValueError("an image contains NaN or infinity")
        if array.size and (array.min() < 0 or array.max() > 255):
            raise ValueError(
                f"an image has values from {array.min()} to {array.max()}; "
                "expected 0..255 (or 0..65535 for 16-bit integers)"
            )
        array = np.rint(array).astype(np.uint8)
    return np.ascontiguousarray(array)


def shrink(image, max_side):
    """``image`` scaled down so that its longer side is at most ``max_side``."""
    if max_side is None or max(image.shape[:2]) <= max_side:
        return image
    scale = max_side / max(image.shape[:2])
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))


def detect_faces(image, upsample=1):
    """Face boxes ``dlib.rectangle`` in an RGB uint8 image, largest first.

    ``upsample`` doubles the image that many times before detecting: the
    detector finds faces of about 80x80 pixels and more, 40x40 with 1,
    20x20 with 2 (each step about 4 times slower).
    """
    if min(image.shape[:2]) < 2:
        return []
    boxes = face_detector()(image, upsample)
    return sorted(boxes, key=lambda box: -box.area())


def align_face(image, box, image_size, *, framing="course", landmarks=None):
    """The face in ``box`` aligned by its landmarks, cut with the course's framing or dlib's.

    ``framing="dlib"`` is dlib's own chip, ``dlib.get_face_chip(image,
    landmarks, size=image_size, padding=0.25)``, the input its ResNet was
    trained on. ``landmarks`` (dlib's 5 points of ``box``) are found when None.

    Returns
    -------
    ndarray of shape (image_size, image_size, 3), uint8
    """
    dlib = import_dlib()
    if landmarks is None:
        landmarks = shape_predictor()(image, box)
    if framing == "dlib":
        return dlib.get_face_chip(image, landmarks, size=image_size, padding=DLIB_PADDING)
    # Side in source pixels of dlib's unit box (padding 0): cut the wide chip
    # at about the source's resolution, then resize once with Lanczos, as the
    # loaders resize a fixed crop.
    unit = dlib.get_face_chip_details(landmarks, 150, 0.0).rect.width()
    course_side = max(image_size, math.ceil(COURSE_SCALE * unit))
    wide = round(course_side * (1 + 2 * _WIDE_PADDING) / COURSE_SCALE)
    chip = dlib.get_face_chip(image, landmarks, size=wide, padding=_WIDE_PADDING)
    # In the wide chip, the unit box is centred and wide / (1 + 2 padding) across.
    unit_px = wide / (1 + 2 * _WIDE_PADDING)
    centre_x, centre_y = wide / 2, wide / 2 - COURSE_SHIFT_UP * unit_px
    half = COURSE_SCALE * unit_px / 2
    crop = (
        centre_x - half,
        max(0.0, centre_y - half),
        centre_x + half,
        min(float(wide), centre_y + half),
    )
    return np.asarray(
        Image.fromarray(chip).resize((image_size, image_size), Image.Resampling.LANCZOS, box=crop)
    )


def find_face(image, *, image_size=48, upsample=1, max_side=1024, framing="course", chip_size=None):
    """Detect, align and crop the largest face of one image.

    Parameters
    ----------
    image : array-like
        One image in memory (see :func:`as_rgb_uint8` for what it may be).
    image_size : int
        Side of the chip returned.
    upsample : int
        Times the image is doubled before detection (finds smaller faces).
    max_side : int or None
        Larger photos are first scaled down to this longer side (detection
        time grows with the pixels; a face of a phone photo stays large enough).
    framing : {"course", "dlib"}
        How the chip frames the face (see :func:`align_face`).
    chip_size : int or None
        Also cut, from the same landmarks, dlib's own chip of this side (the
        embedding's input): then the result has three items.

    Returns
    -------
    chip : ndarray of shape (image_size, image_size, 3) uint8, or None
        The aligned face; None when no face is found.
    n_faces : int
        How many faces the detector found; the largest one is returned.
    dlib_chip : ndarray of shape (chip_size, chip_size, 3) uint8, or None
        Only with ``chip_size``: dlib's chip of the same face.
    """
    image = shrink(as_rgb_uint8(image), max_side)
    boxes = detect_faces(image, upsample)
    if not boxes:
        return (None, 0) if chip_size is None else (None, 0, None)
    landmarks = shape_predictor()(image, boxes[0])
    chip = align_face(image, boxes[0], image_size, framing=framing, landmarks=landmarks)
    if chip_size is None:
        return chip, len(boxes)
    return (
        chip,
        len(boxes),
        align_face(image, boxes[0], chip_size, framing="dlib", landmarks=landmarks),
    )
