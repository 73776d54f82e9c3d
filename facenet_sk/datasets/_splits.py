"""The seed's named splits."""

#: The fixed splits of the course's data, in the order the seed uses them.
SUBSETS = ("train", "valid", "test")


def check_subset(subset):
    """Return ``subset`` if it names a split or ``"all"``, else raise ValueError."""
    if subset not in SUBSETS + ("all",):
        raise ValueError(f"subset must be one of {SUBSETS + ('all',)}, got {subset!r}")
    return subset
