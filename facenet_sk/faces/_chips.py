"""Square RGB face chips from the X the networks take: images or flat rows."""

import math

import numpy as np
from sklearn.utils.validation import check_array

#: Smallest chip side the embedding accepts: below it a face has too few
#: pixels left for the ResNet (upsampled 16x16 faces are mostly blur).
MIN_CHIP_SIZE = 16


def as_chips(X, *, name="X"):
    """X as uint8 chips (n, side, side, 3), with a clear error for anything else.

    ``X`` holds square RGB images (n, side, side, 3), or the same images
    flattened row-major (n, side * side * 3), of any real dtype with values
    in 0..255; floats are rounded.
    """
    if hasattr(X, "ndim") and X.ndim == 4 and not hasattr(X, "columns"):
        images = np.asarray(X)
        if images.shape[1] != images.shape[2] or images.shape[3] != 3:
            raise ValueError(
                f"{name} has images of shape {images.shape[1:]}; the face "
                "embedding takes square RGB images (side, side, 3)"
            )
        flat = images.reshape(len(images), -1)
    else:
        flat = X
    flat = check_array(flat, dtype=None, input_name=name, ensure_min_samples=1)
    if not (np.issubdtype(flat.dtype, np.number) or flat.dtype == bool) or np.issubdtype(
        flat.dtype, np.complexfloating
    ):
        raise ValueError(f"{name} must hold real pixel values 0..255, got dtype {flat.dtype}")
    side = math.isqrt(flat.shape[1] // 3)
    if flat.shape[1] != 3 * side * side:
        raise ValueError(
            f"{name} has {flat.shape[1]} values per sample, which is not a square RGB image "
            "(side * side * 3 values); grey images need their channel repeated three times"
        )
    if side < MIN_CHIP_SIZE:
        raise ValueError(
            f"{name} has {side}x{side} images; the face embedding needs faces of "
            f"at least {MIN_CHIP_SIZE}x{MIN_CHIP_SIZE} pixels"
        )
    if flat.dtype.kind == "f":
        if not np.isfinite(flat).all():
            raise ValueError(f"{name} contains NaN or infinity")
        low, high = flat.min(), flat.max()
    else:
        low, high = flat.min(), flat.max()
    if low < 0 or high > 255:
        raise ValueError(
            f"{name} has values from {low} to {high}; the face embedding takes raw pixel "
            "values 0..255 (put it before any scaler, and divide 16-bit images by 257)"
        )
    if flat.dtype != np.uint8:
        flat = np.rint(flat).astype(np.uint8)
    return flat.reshape(len(flat), side, side, 3)
