"""The obvious pipeline against the documented face row, on AT&T-like data.

Protocol (fixed, so that runs compare):

- AT&T-like data: 40 people drawn at random from ``lfw_more_people`` (131
  LFW people never used for tuning), 10 photos each drawn at random; 5
  draws (seeds 0-4).
- Faces through the documented route (``load_face_folder(detect=True)``,
  its ``chips`` to ``FaceEmbedding(framing="dlib")``; ``route_embeddings.py``).
- Each draw: 5-fold stratified cross-validation (2 test photos per person
  and fold) of ``LogisticRegression()`` with scikit-learn's defaults (the
  obvious ``make_pipeline(FaceEmbedding(framing="dlib"), LogisticRegression())``)
  and of the logistic regression of ``face_embedding_baseline()`` (``C=10``),
  on the same embeddings (the embedding has nothing to fit, so fitting it in
  each fold would give the same numbers).
- Reported: the mean accuracy of each draw and their mean.

Usage::

    python benchmarks/obvious_pipeline.py [--root PATH] [--cache DIR] [--people 40] [--photos 10]
"""

import argparse
from pathlib import Path

import numpy as np
from route_embeddings import DEFAULT_CACHE, route_embeddings
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score

from facenet_sk.baselines import face_embedding_baseline

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
N_PEOPLE, N_PHOTOS, N_DRAWS = 40, 10, 5


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=SHARED / "lfw_more_people")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--people", type=int, default=N_PEOPLE)
    parser.add_argument("--photos", type=int, default=N_PHOTOS)
    args = parser.parse_args(argv)
    got = route_embeddings(args.root, args.cache)
    classifiers = {
        "LogisticRegression()": LogisticRegression(),
        "face_embedding_baseline() (C=10)": face_embedding_baseline()["logreg"],
    }
    scores = {name: [] for name in classifiers}
    for seed in range(N_DRAWS):
        rng = np.random.default_rng(seed)
        people = rng.permutation(np.unique(got.target))[: args.people]
        rows = np.concatenate(
            [rng.permutation(np.flatnonzero(got.target == p))[: args.photos] for p in people]
        )
        # 5 folds: 2 test photos per person and fold with 10 photos each.
        cv = StratifiedKFold(min(5, args.photos), shuffle=True, random_state=seed)
        for name, classifier in classifiers.items():
            scores[name].append(
                cross_val_score(
                    clone(classifier), got.embeddings[rows], got.target[rows], cv=cv
                ).mean()
            )
    print(
        f"{args.root.name}: {args.people} people x {args.photos} photos, {N_DRAWS} draws, "
        f"{min(5, args.photos)}-fold cross-validation\n"
    )
    print("| classifier on the embeddings | accuracy per draw | mean |")
    print("|---|---|---|")
    for name, values in scores.items():
        print(f"| {name} | {' '.join(f'{v:.3f}' for v in values)} | {np.mean(values):.4f} |")
    gap = np.mean(scores["face_embedding_baseline() (C=10)"]) - np.mean(
        scores["LogisticRegression()"]
    )
    print(f"\ngap: {100 * gap:.2f} points")


if __name__ == "__main__":
    main()
