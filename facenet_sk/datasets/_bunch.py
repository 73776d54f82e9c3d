"""The one place that turns an image stack into the loaders' Bunch."""

import numpy as np
from sklearn.utils import Bunch


def make_bunch(images, target, target_names, *, return_X_y=False, **extra):
    """Package uint8 images and integer labels the way every loader returns them.

    ``data`` is a row-major (H, W, C) flattening of ``images`` that shares
    their memory, so the Bunch costs no second copy of the pixels.
    """
    images = np.ascontiguousarray(images, dtype=np.uint8)
    target = np.asarray(target, dtype=np.int64)
    data = images.reshape(len(images), -1)
    if return_X_y:
        return data, target
    return Bunch(
        images=images,
        data=data,
        target=target,
        target_names=np.asarray(target_names),
        **extra,
    )
