"""Settings every notebook shares: which faces, how many epochs, how much output.

Environment variables choose them (see README.md in this folder); each
notebook starts with ``from _settings import EPOCHS, VERBOSE, load_data``.
"""

import os

from facenet_sk.datasets import load_split

#: Epochs per network (the exercise's 30).
EPOCHS = int(os.environ.get("FACENET_SK_EPOCHS", "30"))
#: A folder with one sub-folder of photos per person; None: the synthetic faces.
FACES = os.environ.get("FACENET_SK_FACES") or None
#: "left,top,right,bottom" or "center", cut from each photo of FACES.
CROP = os.environ.get("FACENET_SK_CROP") or None
#: Synthetic images per person (split 5/7 train, 1/7 valid, 1/7 test).
N_PER_PERSON = int(os.environ.get("FACENET_SK_N_PER_PERSON", "350"))
#: 1: skorch's table of every epoch while a network trains; 0: quiet.
VERBOSE = int(os.environ.get("FACENET_SK_VERBOSE", "1"))


def load_data():
    """The train / valid / test split the settings ask for, described in one line."""
    if FACES:
        crop = CROP if CROP in (None, "center") else tuple(int(v) for v in CROP.split(","))
        # The exercise's proportions: 5/7 train, 1/7 valid, 1/7 test, stratified.
        data = load_split(FACES, crop=crop, valid_size=1 / 7, test_size=1 / 7, random_state=0)
        source = f"folder {FACES}"
    else:
        data = load_split("synthetic", max_per_person=N_PER_PERSON, random_state=0)
        source = "synthetic faces"
    print(
        f"{source}: {len(data.target_names)} people, {data.X_train.shape[1]} features per "
        f"image, {len(data.y_train)} train / {len(data.y_valid)} valid / "
        f"{len(data.y_test)} test images; {EPOCHS} epoch(s) per network"
    )
    return data
