"""Strangers on people never seen: NearestFaceClassifier's defaults over many draws.

Protocol (fixed, so that runs compare):

- Embeddings through the documented route (``load_face_folder(detect=True)``,
  its ``chips`` to ``FaceEmbedding(framing="dlib")``; see
  ``route_embeddings.py``), of ``lfw_more_people`` (131 LFW people who are
  not in ``lfw_deepfunneled``, on which the default threshold was chosen)
  and of ``lfw_deepfunneled`` (LFW-19).
- Each draw (``--draws``, seeds 0, 1, ...) picks ``--known`` people to know
  and ``--strangers`` others, disjoint; each known person's photos are
  shuffled and split: a gallery (half of them, or ``--gallery`` photos each)
  that the classifier is fitted on, the rest to name. Every photo of the
  strangers is to be rejected.
- The classifier is ``NearestFaceClassifier()`` with its DEFAULT settings
  (the mean of each person, corrected for the photos averaged, threshold
  0.48), next to ``reference="nearest"`` at the same threshold (the former
  default).
- Reported: the share of known test photos named correctly and of strangers'
  photos rejected, pooled over the draws, and the lowest of one draw.

Usage::

    python benchmarks/strangers.py [--root PATH] [--known 7] [--strangers 8] [--draws 100]
                                   [--gallery half,2,3,5] [--cache DIR]
"""

import argparse
from pathlib import Path

import numpy as np
from route_embeddings import DEFAULT_CACHE, route_embeddings

from facenet_sk.faces import NearestFaceClassifier

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
MODELS = {"default (mean, corrected)": {}, "reference='nearest'": {"reference": "nearest"}}


def draw(target, n_known, n_strangers, gallery, rng):
    """Indices (gallery, known test photos, strangers' photos) of one draw."""
    people = rng.permutation(np.unique(target))
    if len(people) < n_known + n_strangers:
        raise ValueError(f"{len(people)} people, fewer than {n_known} + {n_strangers}")
    known, strangers = people[:n_known], people[n_known : n_known + n_strangers]
    fit, test = [], []
    for person in known:
        photos = rng.permutation(np.flatnonzero(target == person))
        n = len(photos) // 2 if gallery == "half" else min(int(gallery), len(photos) - 1)
        fit.extend(photos[:n])
        test.extend(photos[n:])
    return np.array(fit), np.array(test), np.flatnonzero(np.isin(target, strangers))


def measure(embeddings, target, *, n_known, n_strangers, n_draws, gallery, params):
    """(named, rejected, lowest named, lowest rejected) over ``n_draws`` draws."""
    counts = []
    for seed in range(n_draws):
        fit, test, strangers = draw(
            target, n_known, n_strangers, gallery, np.random.default_rng(seed)
        )
        model = NearestFaceClassifier(**params).fit(embeddings[fit], target[fit])
        named = model.predict(embeddings[test]) == target[test]
        rejected = model.predict(embeddings[strangers]) == model.unknown_label_
        counts.append((named.sum(), len(named), rejected.sum(), len(rejected)))
    c = np.array(counts, dtype=float)
    return (
        c[:, 0].sum() / c[:, 1].sum(),
        c[:, 2].sum() / c[:, 3].sum(),
        (c[:, 0] / c[:, 1]).min(),
        (c[:, 2] / c[:, 3]).min(),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--root",
        type=Path,
        action="append",
        help="folders (default: lfw_more_people, then lfw_deepfunneled)",
    )
    parser.add_argument(
        "--known", type=int, nargs="+", default=[7, 10], help="known people per draw, one per root"
    )
    parser.add_argument("--strangers", type=int, nargs="+", default=[8, 9])
    parser.add_argument("--draws", type=int, default=100)
    parser.add_argument("--gallery", default="half,2,3,5")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args(argv)
    roots = args.root or [SHARED / "lfw_more_people", SHARED / "lfw_deepfunneled"]
    for k, root in enumerate(roots):
        got = route_embeddings(root, args.cache)
        n_known = args.known[min(k, len(args.known) - 1)]
        n_strangers = args.strangers[min(k, len(args.strangers) - 1)]
        print(
            f"\n{root.name}: {len(got.target)} faces of {len(got.target_names)} people; "
            f"{n_known} known, {n_strangers} strangers, {args.draws} draws\n"
        )
        print(
            "| gallery per known person | classifier | known photos named correctly "
            "| strangers rejected | lowest draw (named / rejected) |"
        )
        print("|---|---|---|---|---|")
        for gallery in args.gallery.split(","):
            for name, params in MODELS.items():
                named, rejected, low_n, low_r = measure(
                    got.embeddings,
                    got.target,
                    n_known=n_known,
                    n_strangers=n_strangers,
                    n_draws=args.draws,
                    gallery=gallery,
                    params=params,
                )
                print(
                    f"| {gallery} | {name} | {named:.3f} | {rejected:.3f} "
                    f"| {low_n:.3f} / {low_r:.3f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
