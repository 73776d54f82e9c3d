"""Test accuracy against training photos per person on real faces (LFW-19), every model.

Protocol (fixed so that runs compare):

- LFW-19: the 19 people of ``lfw_deepfunneled`` (1,867 images),
  ``load_face_folder(root, crop=(60, 60, 190, 190))``: 48x48 RGB face crops.
- One stratified 75/25 split with ``random_state=42`` (the test part, 467
  images, is the same for every fit); for n = 1, 2, 3, 5, 10, 20 photos per
  person, 5 random draws of n training photos per person from the training
  part (:func:`facenet_sk.few_shot.few_shot_curve`), and all of it once.
- Models: the course's five networks (per-pixel StandardScaler + network, Adam
  1e-3, batch 128, ``--epochs`` epochs: the course's 30 by default), logistic
  regression on standardized pixels, scikit-learn's eigenfaces example,
  ``face_embedding``: dlib's pretrained 128-d face embedding with the
  logistic regression of :func:`facenet_sk.baselines.face_embedding_baseline`
  on top, and ``face_embedding_fcnet``: a facenet_sk network trained on the
  embeddings (:func:`facenet_sk.baselines.face_embedding_fcnet_baseline`),
  and ``face_embedding_nearest``: the nearest training face's person
  (:class:`facenet_sk.faces.NearestFaceClassifier` without a threshold).
  The pretrained rows need ``pip install "facenet_sk[faces]"``; the
  embeddings of all the photos are computed once, and the classifiers on top
  are fitted on the same draws (the draws depend only on the labels and the
  seed).
- Reported: test accuracy and balanced accuracy, mean and standard deviation
  over the draws; the wall time and peak memory of the run.

Usage::

    python benchmarks/few_shot.py [--root PATH] [--out DIR] [--epochs N]
        [--models a,b,...] [--reuse] [--figure PATH]
    python benchmarks/few_shot.py --synthetic --epochs 1 --out /tmp/few   # a smoke run
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import pandas as pd
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from facenet_sk import MODEL_NAMES, eigenfaces_baseline, logistic_regression_baseline, make_model
from facenet_sk.datasets import load_face_folder, make_synthetic_faces
from facenet_sk.few_shot import few_shot_curve, plot_few_shot, summarize_few_shot

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "lfw_deepfunneled"
CROP = (60, 60, 190, 190)
BASELINES = ("logistic_regression", "eigenfaces_svm")
EMBEDDINGS = ("face_embedding", "face_embedding_fcnet", "face_embedding_nearest")
ALL_MODELS = MODEL_NAMES + BASELINES + EMBEDDINGS


def pixel_models(names, *, epochs, random_state=0):
    """The networks and the classic baselines among ``names``, by name."""
    models = {}
    for name in names:
        if name in MODEL_NAMES:
            models[name] = make_pipeline(
                StandardScaler(), make_model(name, max_epochs=epochs, random_state=random_state)
            )
        elif name == "logistic_regression":
            models[name] = logistic_regression_baseline()
        elif name == "eigenfaces_svm":
            models[name] = eigenfaces_baseline()
    return models


def embedding_models(names, *, n_jobs, memory):
    """The pretrained rows among ``names``: name -> Pipeline whose first step embeds."""
    from facenet_sk import baselines
    from facenet_sk.faces import FaceEmbedding, NearestFaceClassifier

    builders = {
        "face_embedding": baselines.face_embedding_baseline,
        "face_embedding_fcnet": baselines.face_embedding_fcnet_baseline,
        # Every face is someone known here: no threshold, the nearest one names it.
        "face_embedding_nearest": lambda **embed: make_pipeline(
            FaceEmbedding(**embed), NearestFaceClassifier(distance_threshold=None)
        ),
    }
    return {
        name: builders[name](n_jobs=n_jobs, memory=memory) for name in names if name in builders
    }


def embedding_curve(models, images, y, **curve):
    """The pretrained rows: embeddings of all photos computed once, the rest on the draws.

    The draws depend only on the labels and the seed, so the classifiers on
    top of the embeddings are fitted on the same photos as the pixel models.
    """
    first = next(iter(models.values()))
    start = time.perf_counter()
    embeddings = first[:1].fit_transform(images)  # the same FaceEmbedding in every row
    print(f"embeddings of {len(images)} photos: {time.perf_counter() - start:.0f} s", flush=True)
    return few_shot_curve(
        {name: model[1:] for name, model in models.items()}, embeddings, y, **curve
    )


def summary_markdown(summary):
    """One row per model, one column per n: 'mean ± std' of test accuracy (balanced in ())."""

    def cell(row):
        text = f"{row.test_accuracy_mean:.3f}"
        if row.n_draws > 1:
            text += f" ± {row.test_accuracy_std:.3f}"
        return text + f" ({row.test_balanced_accuracy_mean:.3f})"

    summary = summary.assign(
        cell=[cell(r) for r in summary.itertuples()],
        n=[
            f"all ({r.n_per_person})" if r.all_photos else str(r.n_per_person)
            for r in summary.itertuples()
        ],
    )
    table = summary.pivot(index="model", columns="n", values="cell")
    order = sorted(
        table.columns,
        key=lambda c: (
            c.startswith("all"),
            int(c.split()[-1].strip("()")) if c.startswith("all") else int(c),
        ),
    )
    models = list(dict.fromkeys(summary["model"]))
    return table.loc[models, order].reset_index().to_markdown(index=False)


def parse_n(text):
    return tuple(None if v.strip() == "all" else int(v) for v in text.split(","))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root",
        default=os.environ.get("FACENET_SK_LFW", DEFAULT_ROOT),
        help="the lfw_deepfunneled folder",
    )
    parser.add_argument(
        "--synthetic", action="store_true", help="tiny synthetic faces instead of LFW (a smoke run)"
    )
    parser.add_argument("--out", default="few_shot_results", help="folder for the results")
    parser.add_argument("--figure", help="also save the figure here (e.g. docs/results/...)")
    parser.add_argument(
        "--models",
        default=",".join(ALL_MODELS),
        help=f"comma-separated, among {', '.join(ALL_MODELS)}",
    )
    parser.add_argument("--epochs", type=int, default=30, help="epochs per network (30)")
    parser.add_argument("--n-per-person", default="1,2,3,5,10,20,all")
    parser.add_argument("--n-draws", type=int, default=5)
    parser.add_argument("--random-state", type=int, default=42, help="split and draws (42)")
    parser.add_argument(
        "--n-jobs", type=int, default=1, help="fits (and embedding processes) in parallel"
    )
    parser.add_argument(
        "--embedding-cache", help="folder that keeps each photo's embedding between runs"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the rows of the models not run now from OUT/few_shot.csv",
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = sorted(set(names) - set(ALL_MODELS))
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose among {', '.join(ALL_MODELS)}")
    n_per_person = parse_n(args.n_per_person)

    if args.synthetic:
        faces = make_synthetic_faces(n_people=3, n_per_person=16, random_state=0)
        description = "synthetic faces, 3 people x 16 images"
    else:
        faces = load_face_folder(args.root, crop=CROP)
        description = f"{args.root}, crop {CROP}"
    print(
        f"data: {description}: {len(faces.target_names)} people, {len(faces.target)} images",
        flush=True,
    )
    curve = dict(n_per_person=n_per_person, n_draws=args.n_draws, random_state=args.random_state)
    start = time.perf_counter()
    tables = []
    models = pixel_models(names, epochs=args.epochs)
    if models:
        tables.append(few_shot_curve(models, faces.data, faces.target, n_jobs=args.n_jobs, **curve))
    pretrained = embedding_models(names, n_jobs=args.n_jobs, memory=args.embedding_cache)
    if pretrained:
        tables.append(embedding_curve(pretrained, faces.images, faces.target, **curve))
    elapsed = time.perf_counter() - start
    results = pd.concat(tables, ignore_index=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    csv = out / "few_shot.csv"
    if args.reuse and csv.exists():
        kept = pd.read_csv(csv)
        results = pd.concat([kept[~kept["model"].isin(names)], results], ignore_index=True)
    order = {name: i for i, name in enumerate(ALL_MODELS)}
    results = results.sort_values("model", key=lambda c: c.map(order), kind="stable")
    results.attrs["n_classes"] = len(faces.target_names)

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary = summarize_few_shot(results)
    markdown = summary_markdown(summary)
    print(markdown)
    print(
        f"wall time: {elapsed:.0f} s; peak RSS: {peak_mib:.0f} MiB; {os.cpu_count()} CPU(s); "
        f"networks: {args.epochs} epochs; models run now: {', '.join(names)}"
    )
    tmp = csv.with_suffix(".csv.tmp")
    results.to_csv(tmp, index=False)
    os.replace(tmp, csv)
    (out / "few_shot.md").write_text(
        f"Test accuracy ± std over the draws (balanced accuracy), {description}; last run: "
        f"{', '.join(names)} ({args.n_draws} draws, networks {args.epochs} epochs)"
        f"\n\n{markdown}\n"
    )
    figure = plot_few_shot(results)
    for path in filter(None, [out / "few_shot.png", args.figure]):
        figure.savefig(path, dpi=110)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
