"""Embeddings of every photo of a folder through the documented route, kept on disk.

The documented route from photos to embeddings: ``load_face_folder(root,
detect=True)`` finds, aligns and cuts each face, and its ``chips`` (dlib's
150x150 chips, cut from the photos themselves) go to
``FaceEmbedding(framing="dlib")``. The result is written to
``<cache>/<folder name>-route.npz`` (to a temporary name, then renamed), and
read from there by the next run: embedding 2,000 photos takes minutes.

Usage (also imported by the other benchmarks)::

    python benchmarks/route_embeddings.py ROOT [ROOT ...] [--cache DIR] [--n-jobs N]
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from facenet_sk.datasets import load_face_folder
from facenet_sk.faces import FaceEmbedding

DEFAULT_CACHE = Path(tempfile.gettempdir()) / "facenet_sk_bench"


def route_embeddings(root, cache=DEFAULT_CACHE, n_jobs=1, keep_chips=False):
    """Bunch ``embeddings``, ``target``, ``target_names``, ``filenames``, ``skipped``, ``seconds``.

    With ``keep_chips``, also ``chips`` (then the photos are always read
    again; only the embeddings are kept on disk).
    """
    root = Path(root)
    path = Path(cache) / f"{root.name}-route.npz"
    if path.exists() and not keep_chips:
        with np.load(path) as stored:
            return Bunch(**{k: stored[k] for k in stored.files})
    start = time.perf_counter()
    faces = load_face_folder(root, detect=True, n_jobs=n_jobs)
    embeddings = FaceEmbedding(
        framing="dlib", n_jobs=n_jobs, memory=Path(cache) / "embeddings"
    ).fit_transform(faces.chips)
    result = Bunch(
        embeddings=embeddings,
        target=faces.target,
        target_names=np.asarray(faces.target_names),
        filenames=faces.filenames,
        skipped=faces.skipped,
        seconds=np.float64(time.perf_counter() - start),
    )
    Path(cache).mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.stem + f".{os.getpid()}.partial.npz")
    np.savez(partial, **result)
    partial.replace(path)
    if keep_chips:
        result.chips = faces.chips
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", type=Path)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--n-jobs", type=int, default=1)
    args = parser.parse_args(argv)
    for root in args.roots:
        got = route_embeddings(root, args.cache, args.n_jobs)
        print(
            f"{root.name}: {len(got.target)} faces of {len(got.target_names)} people, "
            f"{len(got.skipped)} photos without a face, {float(got.seconds):.0f} s"
        )


if __name__ == "__main__":
    main()
