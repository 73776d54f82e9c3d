"""How much of the head an aligned chip shows: the course's framing and dlib's.

dlib aligns a face by its 5 landmarks into a unit box (``padding=0``: from
the eyebrows to the bottom lip, centred between the eyes and the mouth).
Measured on 373 photos of ``lfw_deepfunneled``, the ``(60, 60, 190, 190)``
crop that frames faces like the course's data is 1.728 times that box's
side, centred 0.123 of its side higher (towards the forehead). dlib's ResNet
expects ``padding=0.25``: 1.5 times the box, centred on it.
"""

#: Side of the course's framing, in units of dlib's unit box.
COURSE_SCALE = 1.728
#: Upward shift of the course's framing centre, in units of dlib's unit box.
COURSE_SHIFT_UP = 0.123
#: dlib's default padding for its face chips, that its ResNet was trained on.
DLIB_PADDING = 0.25
#: How an input chip may frame the face.
FRAMINGS = ("course", "dlib")


def reframe_box(framing, side):
    """Box (left, top, right, bottom) of a ``side`` chip that dlib's ResNet wants.

    Returns None when the chip is already framed as dlib frames it.

    Examples
    --------
    >>> reframe_box("course", 48)
    (3.17, 6.33, 44.83, 48.0)
    >>> reframe_box("dlib", 48) is None
    True
    """
    if framing == "dlib":
        return None
    size = (1 + 2 * DLIB_PADDING) / COURSE_SCALE * side
    centre_x = side / 2
    # The box reaches a quarter pixel below a 48-pixel chip: keep it inside.
    centre_y = min(side / 2 + COURSE_SHIFT_UP / COURSE_SCALE * side, side - size / 2)
    return tuple(
        round(v, 2)
        for v in (
            centre_x - size / 2,
            centre_y - size / 2,
            centre_x + size / 2,
            centre_y + size / 2,
        )
    )
