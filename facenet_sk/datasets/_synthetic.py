"""Procedurally drawn faces: the offline default data set.

Every person is a fixed identity (face shape, skin, hair, eyes, brows, nose,
mouth); every image redraws that identity under a random pose, lighting,
expression, background and noise. The drawing is vectorised over all images
at once, so 2,800 faces take a fraction of a second.
"""

import numpy as np
from sklearn.utils import check_random_state

from ..split import SUBSETS, check_subset
from ._bunch import make_bunch

DESCR = """Synthetic faces
===============

Procedurally drawn RGB faces that stand in for the course's "8 faces" photos
when those cannot be downloaded. Each person is a fixed identity (face
shape, skin and hair colour, hair line, eye spacing and size, brows, nose,
mouth); each image varies it (position, scale, rotation, lighting,
expression, background clutter, occluders, sensor noise).

The course's split is kept: of every person's images, 5/7 are ``train``, 1/7
``valid`` and the rest ``test`` (250/50/50 for 350 images per person).
The ``subset`` field names the split of every image.
"""

_CHUNK = 64

# Half-open ranges of the identity parameters, in units of half the image.
_IDENTITY_RANGES = {
    "face_rx": (0.46, 0.62),
    "face_ry": (0.60, 0.78),
    "hair_line": (-0.60, -0.25),
    "hair_volume": (0.02, 0.22),
    "eye_dx": (0.17, 0.30),
    "eye_y": (-0.17, -0.02),
    "eye_rx": (0.06, 0.11),
    "eye_ry": (0.030, 0.060),
    "brow_gap": (0.07, 0.15),
    "brow_thick": (0.015, 0.040),
    "brow_tilt": (-0.35, 0.35),
    "nose_len": (0.12, 0.26),
    "nose_w": (0.035, 0.080),
    "mouth_y": (0.28, 0.46),
    "mouth_rx": (0.11, 0.24),
    "mouth_ry": (0.020, 0.050),
    "smile": (-0.5, 0.9),
}
_LIGHT_SKIN = np.array([0.96, 0.80, 0.68], dtype=np.float32)
_DARK_SKIN = np.array([0.42, 0.28, 0.18], dtype=np.float32)
_HAIR_COLOURS = np.array(
    [[0.08, 0.06, 0.05], [0.30, 0.18, 0.10], [0.80, 0.65, 0.35]], dtype=np.float32
)
_IRIS_COLOURS = np.array(
    [[0.25, 0.15, 0.08], [0.20, 0.35, 0.60], [0.25, 0.45, 0.25], [0.10, 0.08, 0.06]],
    dtype=np.float32,
)


def _draw_identities(rng, n_people):
    """One row of drawing parameters per person."""
    ids = {k: rng.uniform(lo, hi, n_people) for k, (lo, hi) in _IDENTITY_RANGES.items()}
    # Few skin tones and hair colours, shared between people, so that colour
    # alone does not tell people apart: the geometry of the face must.
    tone = rng.choice([0.1, 0.45, 0.8], size=n_people)[:, None]
    skin = (1 - tone) * _LIGHT_SKIN + tone * _DARK_SKIN
    ids["skin"] = skin + rng.normal(0, 0.03, (n_people, 3))
    ids["hair"] = _HAIR_COLOURS[rng.integers(len(_HAIR_COLOURS), size=n_people)]
    ids["iris"] = _IRIS_COLOURS[rng.integers(len(_IRIS_COLOURS), size=n_people)]
    ids["lips"] = skin * np.array([0.75, 0.45, 0.45]) + rng.uniform(0, 0.15, (n_people, 1))
    return ids


def _ellipse(u, v, cx, cy, rx, ry, sharpness=6.0):
    """Soft mask (n, H, W) of an axis-aligned ellipse in face coordinates."""
    du = u - cx
    du *= 1.0 / rx
    np.square(du, out=du)
    dv = v - cy
    dv *= 1.0 / ry
    np.square(dv, out=dv)
    du += dv
    # (1 - d) * sharpness, clipped to [0, 1], computed in place.
    du *= -sharpness
    du += sharpness
    return np.clip(du, 0.0, 1.0, out=du)


def _paint(canvas, mask, colour):
    """Alpha-blend ``colour`` (n, 3) into the channel-first ``canvas`` (3, n, H, W).

    Channels come first so that numpy's inner loops run over pixels, not
    over three colour values (four times faster).
    """
    delta = np.asarray(colour, dtype=np.float32).T[:, :, None, None] - canvas
    delta *= mask
    canvas += delta


def _col(a):
    """Per-image scalar parameters as (n, 1, 1) for broadcasting over pixels."""
    return np.asarray(a, dtype=np.float32)[:, None, None]


def _render(rng, ids, person, image_size):
    """Draw one image for each entry of ``person`` (identity indices)."""
    n = len(person)
    p = {k: v[person] for k, v in ids.items()}
    # Per-image variation of the identity: expression, blinks, small drift.
    for key in ("eye_dx", "eye_y", "nose_len", "mouth_y", "mouth_rx", "hair_line"):
        lo, hi = _IDENTITY_RANGES[key]
        p[key] = p[key] + rng.normal(0, 0.08 * (hi - lo), n)
    p["smile"] = p["smile"] + rng.normal(0, 0.35, n)
    p["eye_ry"] = p["eye_ry"] * rng.uniform(0.35, 1.15, n)
    p["mouth_ry"] = p["mouth_ry"] * rng.uniform(0.6, 2.2, n)

    # Pose: the pixel grid is mapped back into the face's own coordinates.
    grid = (np.arange(image_size, dtype=np.float32) + 0.5) / image_size * 2 - 1
    y, x = np.meshgrid(grid, grid, indexing="ij")
    theta = _col(rng.normal(0, np.deg2rad(10), n))
    scale = _col(rng.uniform(0.8, 1.2, n))
    tx, ty = _col(rng.uniform(-0.2, 0.2, n)), _col(rng.uniform(-0.2, 0.2, n))
    xs, ys = (x - tx) / scale, (y - ty) / scale
    cos, sin = np.cos(theta), np.sin(theta)
    u, v = cos * xs + sin * ys, -sin * xs + cos * ys

    canvas = np.empty((3, n, image_size, image_size), dtype=np.float32)
    canvas[:] = rng.uniform(0.1, 0.9, (3, n, 1, 1))
    # Background clutter drawn in image coordinates, behind the face.
    for _ in range(4):
        blob = _ellipse(
            x,
            y,
            _col(rng.uniform(-1, 1, n)),
            _col(rng.uniform(-1, 1, n)),
            _col(rng.uniform(0.1, 0.6, n)),
            _col(rng.uniform(0.1, 0.6, n)),
        )
        _paint(canvas, blob * _col(rng.uniform(0, 1, n) < 0.7), rng.uniform(0, 1, (n, 3)))

    col = {k: _col(val) for k, val in p.items() if np.ndim(val) == 1}
    # Hair behind the head, then neck, face, and the hair's fringe on top.
    _paint(
        canvas,
        _ellipse(
            u, v, 0, -0.12, col["face_rx"] + col["hair_volume"], col["face_ry"] + col["hair_volume"]
        ),
        p["hair"],
    )
    neck = _ellipse(u, v, 0, col["face_ry"] + 0.15, col["face_rx"] * 0.55, 0.35)
    _paint(canvas, neck, p["skin"] * 0.8)
    _paint(canvas, _ellipse(u, v, 0, 0, col["face_rx"], col["face_ry"]), p["skin"])
    fringe = _ellipse(
        u, v, 0, -0.12, col["face_rx"] + col["hair_volume"], col["face_ry"] + col["hair_volume"]
    )
    fringe = fringe * np.clip((col["hair_line"] - v) * 12, 0, 1)
    _paint(canvas, fringe, p["hair"])

    white = np.full((n, 3), 0.95, dtype=np.float32)
    for side in (-1.0, 1.0):
        ex = side * col["eye_dx"]
        _paint(canvas, _ellipse(u, v, ex, col["eye_y"], col["eye_rx"], col["eye_ry"]), white)
        _paint(
            canvas,
            _ellipse(u, v, ex, col["eye_y"], col["eye_ry"] * 0.9, col["eye_ry"] * 0.9),
            p["iris"],
        )
        # Brows are thin ellipses whose height follows a mirrored tilt.
        brow_v = v - side * col["brow_tilt"] * (u - ex)
        brow = _ellipse(
            u, brow_v, ex, col["eye_y"] - col["brow_gap"], col["eye_rx"] * 1.2, col["brow_thick"]
        )
        _paint(canvas, brow, p["hair"] * 0.8)

    nose = _ellipse(
        u, v, 0, col["eye_y"] + col["nose_len"] * 0.6, col["nose_w"], col["nose_len"] * 0.5
    )
    _paint(canvas, nose * 0.6, p["skin"] * 0.7)
    # A smile bends the mouth: its centre line follows a parabola in u.
    mouth_v = v + col["smile"] * (u / col["mouth_rx"]) ** 2 * 0.06
    _paint(
        canvas, _ellipse(u, mouth_v, 0, col["mouth_y"], col["mouth_rx"], col["mouth_ry"]), p["lips"]
    )

    # Occluders (a hand, a microphone) hide part of some faces.
    hidden = _col(rng.uniform(0, 1, n) < 0.2)
    occluder = _ellipse(
        x,
        y,
        _col(rng.uniform(-0.8, 0.8, n)),
        _col(rng.uniform(-0.2, 1.0, n)),
        _col(rng.uniform(0.15, 0.4, n)),
        _col(rng.uniform(0.15, 0.4, n)),
    )
    _paint(canvas, occluder * hidden, rng.uniform(0, 1, (n, 3)))

    # Lighting: overall exposure, a directional gradient and a colour cast.
    phi = _col(rng.uniform(0, 2 * np.pi, n))
    gradient = 1 + _col(rng.uniform(0, 0.45, n)) * (np.cos(phi) * x + np.sin(phi) * y)
    canvas *= gradient * _col(rng.uniform(0.55, 1.25, n))
    canvas *= rng.uniform(0.7, 1.3, (3, n, 1, 1)).astype(np.float32)
    canvas += rng.standard_normal(canvas.shape, dtype=np.float32) * _col(rng.uniform(0.02, 0.09, n))
    return np.clip(canvas * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 3, 0)


def make_synthetic_faces(
    n_people=8,
    n_per_person=350,
    image_size=48,
    random_state=0,
    return_X_y=False,
    *,
    subset="all",
):
    """Generate the synthetic faces data set (the offline default).

    Parameters
    ----------
    n_people : int, default=8
        Number of identities (classes).
    n_per_person : int, default=350
        Images per person before the split (the course's data has 350).
    image_size : int, default=48
        Side of the square RGB images.
    random_state : int, RandomState instance or None, default=0
        Seed: the same value gives the same people and the same images.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    subset : {"all", "train", "valid", "test"}, default="all"
        Which part of the course's per-person 5/7, 1/7, 1/7 split to return.

    Returns
    -------
    sklearn.utils.Bunch or tuple
        ``images`` (n, size, size, 3) uint8, ``data`` (n, size*size*3),
        ``target`` (n,) int64, ``target_names``, ``subset`` (n,) with the split
        of every image, and ``DESCR``; or ``(data, target)``.

    Examples
    --------
    >>> from facenet_sk.datasets import make_synthetic_faces
    >>> faces = make_synthetic_faces(subset="train")
    >>> faces.images.shape, faces.data.shape
    ((2000, 48, 48, 3), (2000, 6912))
    """
    subset = check_subset(subset)
    for name, value, low in (
        ("n_people", n_people, 2),
        ("n_per_person", n_per_person, 3),
        ("image_size", image_size, 8),
    ):
        if not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    # numpy's Generator draws the millions of noise values several times
    # faster than RandomState; the seed still follows scikit-learn's rules.
    rng = np.random.default_rng(check_random_state(random_state).randint(2**31))
    ids = _draw_identities(rng, n_people)
    person = np.repeat(np.arange(n_people), n_per_person)
    # Chunks keep the per-pixel arrays in cache: several times faster than
    # one pass over all images.
    images = np.concatenate(
        [
            _render(rng, ids, person[start : start + _CHUNK], image_size)
            for start in range(0, len(person), _CHUNK)
        ]
    )

    # At least one valid and one test image per person, even for 3 to 5 images
    # (where 5/7 rounded up would leave the test split empty).
    n_train = min(round(n_per_person * 5 / 7), n_per_person - 2)
    n_valid = max(1, round(n_per_person / 7))
    rank = np.tile(np.arange(n_per_person), n_people)
    split = np.where(rank < n_train, "train", np.where(rank < n_train + n_valid, "valid", "test"))
    # Within each split, shuffle so that no consumer sees the people in blocks.
    order = np.concatenate([rng.permutation(np.flatnonzero(split == s)) for s in SUBSETS])
    if subset != "all":
        order = order[split[order] == subset]
    return make_bunch(
        images[order],
        person[order],
        [f"person_{i}" for i in range(n_people)],
        return_X_y=return_X_y,
        subset=split[order],
        DESCR=DESCR,
    )
