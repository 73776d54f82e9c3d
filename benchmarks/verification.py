"""Verification on LFW pairs: the documented route against dlib's own route.

Protocol (fixed, so that runs compare):

- Photos: ``lfw_deepfunneled`` and ``lfw_more_people`` (150 people).
- dlib's own route, written here with dlib alone: the HOG detector with one
  upsampling, the largest face, the 5 landmarks,
  ``dlib.get_face_chip(photo, landmarks, size=150, padding=0.25)``, and
  ``compute_face_descriptor`` of that chip.
- The documented route: ``load_face_folder(root, detect=True)`` and its
  ``chips`` through ``FaceEmbedding(framing="dlib")`` (``route_embeddings.py``).
- Pairs: the people are shuffled (seed 0) into 10 folds of disjoint people;
  each fold draws 300 matched pairs (two photos of one person) and 300
  mismatched pairs (photos of two people), among the photos where both
  routes found a face: 6,000 pairs. A pair is "same" when the Euclidean
  distance of its embeddings is at most a threshold, chosen on 9 folds (the
  best accuracy there) and tested on the 10th; reported: the mean and
  standard deviation of the 10 test accuracies, per route.

Usage::

    python benchmarks/verification.py [--roots PATH ...] [--cache DIR]
                                      [--pairs-per-fold 300] [--folds 10]
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np
from route_embeddings import DEFAULT_CACHE, route_embeddings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
N_FOLDS, PAIRS_PER_FOLD = 10, 300


def dlib_route(root, cache):
    """{file name: embedding} through dlib alone, kept in ``<cache>/<name>-dlib.npz``."""
    path = Path(cache) / f"{Path(root).name}-dlib.npz"
    if not path.exists():
        import dlib
        from PIL import Image

        from facenet_sk.faces._models import face_detector, face_recognizer, shape_predictor

        detector, landmarks, network = face_detector(), shape_predictor(), face_recognizer()
        paths, embeddings = [], []
        files = sorted(
            f
            for person in sorted(Path(root).iterdir())
            if person.is_dir()
            for f in sorted(person.iterdir())
            if f.suffix.lower() == ".jpg"
        )
        for file in files:
            photo = np.asarray(Image.open(file).convert("RGB"))
            boxes = sorted(detector(photo, 1), key=lambda box: -box.area())
            if boxes:
                chip = dlib.get_face_chip(photo, landmarks(photo, boxes[0]), size=150, padding=0.25)
                paths.append(str(file))
                embeddings.append(np.array(network.compute_face_descriptor(chip)))
        Path(cache).mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.stem + f".{os.getpid()}.partial.npz")
        np.savez(partial, paths=np.array(paths), emb=np.stack(embeddings))
        partial.replace(path)
    with np.load(path) as stored:
        return dict(zip(stored["paths"], stored["emb"]))


def make_pairs(people_of, rng, per_fold=PAIRS_PER_FOLD, n_folds=N_FOLDS):
    """(fold, i, j, same) rows: matched and mismatched pairs, folds of disjoint people."""
    people = rng.permutation(sorted(set(people_of)))
    if len(people) < 2 * n_folds:
        raise ValueError(f"{len(people)} people cannot make {n_folds} folds of 2 people or more")
    rows = []
    for fold, members in enumerate(np.array_split(people, n_folds)):
        photos = {p: np.flatnonzero(people_of == p) for p in members}
        matched = [
            (i, j) for p in members for a, i in enumerate(photos[p]) for j in photos[p][a + 1 :]
        ]
        for k in rng.choice(len(matched), per_fold, replace=False):
            rows.append((fold, *matched[k], 1))
        seen = set()
        while len(seen) < per_fold:
            a, b = rng.choice(members, 2, replace=False)
            pair = (int(rng.choice(photos[a])), int(rng.choice(photos[b])))
            if pair not in seen and pair[::-1] not in seen:
                seen.add(pair)
                rows.append((fold, *pair, 0))
    return np.array(rows)


def best_threshold(distances, same):
    """The threshold of best accuracy: a midpoint between sorted distances."""
    order = np.sort(distances)
    candidates = np.concatenate([[order[0] - 1e-6], (order[1:] + order[:-1]) / 2])
    accuracy = [np.mean((distances <= t) == same) for t in candidates]
    return candidates[int(np.argmax(accuracy))]


def ten_fold_accuracy(embeddings, pairs):
    distances = np.linalg.norm(embeddings[pairs[:, 1]] - embeddings[pairs[:, 2]], axis=1)
    same = pairs[:, 3] == 1
    scores = []
    for fold in np.unique(pairs[:, 0]):
        test = pairs[:, 0] == fold
        threshold = best_threshold(distances[~test], same[~test])
        scores.append(np.mean((distances[test] <= threshold) == same[test]))
    return np.array(scores)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--roots",
        type=Path,
        nargs="+",
        default=[SHARED / "lfw_deepfunneled", SHARED / "lfw_more_people"],
    )
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument(
        "--pairs-per-fold",
        type=int,
        default=PAIRS_PER_FOLD,
        help="matched (and as many mismatched) pairs per fold",
    )
    parser.add_argument("--folds", type=int, default=N_FOLDS)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    ours, theirs = {}, {}
    for root in args.roots:
        got = route_embeddings(root, args.cache)
        ours.update(zip(got.filenames, got.embeddings))
        theirs.update(dlib_route(root, args.cache))
    files = sorted(set(ours) & set(theirs))
    only = len(set(ours) ^ set(theirs))
    people_of = np.array([Path(f).parent.name for f in files])
    pairs = make_pairs(people_of, np.random.default_rng(0), args.pairs_per_fold, args.folds)
    documented = np.stack([ours[f] for f in files])
    dlib_own = np.stack([theirs[f] for f in files])
    difference = np.abs(documented - dlib_own).max()
    print(
        f"{len(files)} photos with a face in both routes ({only} in one only), "
        f"{len(set(people_of))} people, {len(pairs)} pairs in {args.folds} folds; largest "
        f"coordinate difference between the routes' embeddings {difference:.2g}; "
        f"{time.perf_counter() - start:.0f} s\n"
    )
    print(f"| route | accuracy (mean ± std of {args.folds} folds) |")
    print("|---|---|")
    results = {}
    for name, embeddings in (
        ("dlib's own (get_face_chip 150, padding 0.25)", dlib_own),
        (
            ("documented (load_face_folder(detect=True).chips, FaceEmbedding(framing='dlib'))"),
            documented,
        ),
    ):
        scores = ten_fold_accuracy(embeddings, pairs)
        results[name] = scores
        print(f"| {name} | {100 * scores.mean():.2f} % ± {100 * scores.std():.2f} |")
    gap = np.subtract(*results.values())
    print(
        f"\ndifference per fold (dlib's - documented, points): "
        f"{', '.join(f'{100 * g:+.2f}' for g in gap)}; mean {100 * gap.mean():+.2f}"
    )


if __name__ == "__main__":
    main()
