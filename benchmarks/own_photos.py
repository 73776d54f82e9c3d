"""The face pipeline on real photos: crops, detected faces, faces anywhere, unknown people.

Protocol (fixed, so that runs compare):

- ``lfw_deepfunneled`` (19 people, 1,867 photos 250x250), stratified 75/25
  train/test split with ``random_state=42``.
- ``crops``: ``load_face_folder(root, crop=(60, 60, 190, 190))`` (48x48) and
  ``face_embedding_baseline()``: test accuracy and balanced accuracy.
- ``detected``: ``load_face_folder(root, detect=True)``: the share of photos
  where a face is found, and the same classifier on the aligned 48x48 faces.
- ``anywhere``: each TEST photo of the split pasted at a random place and
  scale (its side 0.5 to 1.5 times 250 pixels) into a 640x480 picture with a
  random smooth background, written as JPEGs into a temporary folder (deleted
  at the end, never kept) and loaded with ``detect=True``: the share of faces
  found, and the accuracy of the classifier trained on the training photos'
  48x48 crops (the same framing), counting a photo without a face found as
  an error.
- ``unknown``: on the crops' embeddings, 5 random draws of 10 known people
  (the others are never seen in training); a :class:`NearestFaceClassifier`
  fits on 75 % of the known people's photos and predicts the other 25 % and
  every photo of the unknown people. For each ``distance_threshold``: the
  share of known photos named correctly and of unknown photos rejected.

Embeddings are computed with ``FaceEmbedding(n_jobs=2, memory=--cache)``:
a second run reads them from the cache.

Usage::

    python benchmarks/own_photos.py [--root PATH] [--parts crops,detected,anywhere,unknown]
                                    [--cache DIR] [--smoke]
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split

from facenet_sk.baselines import face_embedding_baseline
from facenet_sk.datasets import load_face_folder
from facenet_sk.faces import FaceEmbedding, NearestFaceClassifier

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "lfw_deepfunneled"
CROP = (60, 60, 190, 190)
PARTS = ("crops", "detected", "anywhere", "unknown")
THRESHOLDS = (0.4, 0.45, 0.46, 0.47, 0.48, 0.49, 0.5, 0.55, 0.6)


def small_copy(root, out, n_people, n_per_person):
    """Links to the first photos of the first people (for --smoke)."""
    for person in sorted(p for p in Path(root).iterdir() if p.is_dir())[:n_people]:
        (out / person.name).mkdir(parents=True)
        for photo in sorted(person.glob("*.jpg"))[:n_per_person]:
            (out / person.name / photo.name).symlink_to(photo)
    return out


def paste_anywhere(files, out, random_state=0, canvas=(640, 480)):
    """Each photo pasted at a random place and scale into a larger picture, in ``out``."""
    rng = np.random.default_rng(random_state)
    n = 0
    for photo in map(Path, files):
        person = photo.parent
        (out / person.name).mkdir(parents=True, exist_ok=True)
        face = Image.open(photo).convert("RGB")
        side = int(250 * rng.uniform(0.5, 1.5))
        face = face.resize((side, side), Image.Resampling.LANCZOS)
        # A smooth random background: a few coloured blobs, blurred.
        small = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
        background = Image.fromarray(small).resize(canvas, Image.Resampling.BICUBIC)
        background = background.filter(ImageFilter.GaussianBlur(8))
        x = int(rng.integers(0, canvas[0] - side + 1))
        y = int(rng.integers(0, canvas[1] - side + 1))
        background.paste(face, (x, y))
        background.save(out / person.name / photo.name, quality=92)
        n += 1
    return n


def split(faces):
    return train_test_split(
        np.arange(len(faces.target)), test_size=0.25, stratify=faces.target, random_state=42
    )


def embedding_scores(faces, embeddings, train, test):
    classifier = face_embedding_baseline()[-1].fit(embeddings[train], faces.target[train])
    predicted = classifier.predict(embeddings[test])
    return (
        predicted,
        (predicted == faces.target[test]).mean(),
        balanced_accuracy_score(faces.target[test], predicted),
    )


def part_crops(root, embed):
    faces = load_face_folder(root, crop=CROP)
    start = time.perf_counter()
    embeddings = embed.transform(faces.data)
    seconds = time.perf_counter() - start
    train, test = split(faces)
    _, accuracy, balanced = embedding_scores(faces, embeddings, train, test)
    print(
        f"crops: {len(faces.target_names)} people, {len(train)} train / {len(test)} test "
        f"photos; embeddings {seconds:.0f} s; face_embedding test accuracy {accuracy:.4f}, "
        f"balanced accuracy {balanced:.4f}",
        flush=True,
    )
    return faces, embeddings


def part_detected(root, embed, label="detected"):
    start = time.perf_counter()
    n_photos = sum(1 for p in Path(root).glob("*/*") if p.is_file())
    faces = load_face_folder(root, detect=True, n_jobs=2)
    detect_seconds = time.perf_counter() - start
    found = len(faces.target)
    embeddings = embed.transform(faces.data)
    train, test = split(faces)
    _, accuracy, balanced = embedding_scores(faces, embeddings, train, test)
    missed = n_photos - found
    # A photo without a face found is an error of the whole pipeline.
    n_test = len(test) + missed * len(test) / max(found, 1)
    print(
        f"{label}: faces found in {found} of {n_photos} photos ({found / n_photos:.2%}, "
        f"{n_photos / detect_seconds:.0f} photos/s with detection); face_embedding test "
        f"accuracy {accuracy:.4f}, balanced accuracy {balanced:.4f} on the photos with a "
        f"face; {accuracy * len(test) / n_test:.4f} counting misses as errors",
        flush=True,
    )
    return faces, embeddings


def part_anywhere(faces, embeddings, embed, random_state=0):
    train, test = split(faces)
    classifier = face_embedding_baseline()[-1].fit(embeddings[train], faces.target[train])
    names = {name: label for label, name in enumerate(faces.target_names)}
    with tempfile.TemporaryDirectory(prefix="faces-anywhere-") as tmp:
        n = paste_anywhere(faces.filenames[test], Path(tmp), random_state=random_state)
        start = time.perf_counter()
        found = load_face_folder(tmp, detect=True, n_jobs=2)
        seconds = time.perf_counter() - start
    truth = np.array([names[name] for name in found.target_names])[found.target]
    predicted = classifier.predict(embed.transform(found.data))
    right = int((predicted == truth).sum())
    print(
        f"anywhere: {n} test photos pasted at random places and scales into 640x480 "
        f"pictures; faces found in {len(truth)} ({len(truth) / n:.2%}, {n / seconds:.1f} "
        f"photos/s with detection); face_embedding (trained on the 48x48 crops) test "
        f"accuracy {right / len(truth):.4f} on the photos with a face, {right / n:.4f} "
        f"counting misses as errors, balanced accuracy "
        f"{balanced_accuracy_score(truth, predicted):.4f}",
        flush=True,
    )


def part_unknown(faces, embeddings, n_known=10, n_draws=5):
    people = np.unique(faces.target)
    n_known = min(n_known, len(people) - 1)
    rows = {t: [] for t in THRESHOLDS}
    for draw in range(n_draws):
        rng = np.random.default_rng(draw)
        known = rng.choice(people, n_known, replace=False)
        is_known = np.isin(faces.target, known)
        idx_known = np.flatnonzero(is_known)
        train, test_known = train_test_split(
            idx_known, test_size=0.25, stratify=faces.target[idx_known], random_state=42
        )
        test_unknown = np.flatnonzero(~is_known)
        for threshold in THRESHOLDS:
            model = NearestFaceClassifier(distance_threshold=threshold)
            model.fit(embeddings[train], faces.target[train])
            named = (model.predict(embeddings[test_known]) == faces.target[test_known]).mean()
            rejected = (model.predict(embeddings[test_unknown]) == model.unknown_label_).mean()
            rows[threshold].append((named, rejected))
    print(
        f"unknown: {n_known} known people, {len(people) - n_known} unknown, {n_draws} draws (mean)"
    )
    print("| distance_threshold | known photos named correctly | unknown photos rejected |")
    print("|--:|--:|--:|")
    for threshold, values in rows.items():
        named, rejected = np.mean(values, axis=0)
        print(f"| {threshold:.2f} | {named:.4f} | {rejected:.4f} |", flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=str(DEFAULT_ROOT))
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--cache", help="folder that keeps the embeddings between runs")
    parser.add_argument(
        "--smoke", action="store_true", help="4 people x 8 photos: checks that the script runs"
    )
    args = parser.parse_args(argv)
    parts = args.parts.split(",")
    embed = FaceEmbedding(n_jobs=2, memory=args.cache)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="own-photos-") as tmp:
        root = small_copy(args.root, Path(tmp) / "lfw", 4, 8) if args.smoke else Path(args.root)
        crops = part_crops(root, embed) if {"crops", "anywhere", "unknown"} & set(parts) else None
        if "detected" in parts:
            part_detected(root, embed)
        if "anywhere" in parts:
            part_anywhere(*crops, embed)
        if "unknown" in parts:
            part_unknown(*crops)
    print(f"wall time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
