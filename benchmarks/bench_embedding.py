"""FaceEmbedding's throughput against dlib's own one-image-at-a-time loop, side by side.

Both embed the same aligned 150x150 chips (``framing="dlib"``: no resizing,
so both do exactly the ResNet's work): dlib's loop calls
``compute_face_descriptor`` on one chip after the other in this process;
``FaceEmbedding(n_jobs=N)`` splits the chips over N worker processes. The
repetitions are interleaved (loop, n_jobs=1, n_jobs=N, loop, ...) so that a
shared machine's load falls on all three alike; medians are reported. The
workers are started and have loaded the network before the timing (a first
call costs that start once per session, reported apart). Peak memory: the
largest resident set of this process and of any worker.

Usage::

    python benchmarks/bench_embedding.py [--n 200] [--repeats 5] [--n-jobs 2] [--root LFW]
"""

import argparse
import os
import resource
import statistics
import time
from pathlib import Path

import numpy as np
import psutil

from facenet_sk.datasets import load_face_folder, make_synthetic_faces
from facenet_sk.faces import FaceEmbedding
from facenet_sk.faces._embedding import resnet_chip
from facenet_sk.faces._models import face_recognizer

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "lfw_deepfunneled"


def chips_150(n, root):
    """n aligned 150x150 chips: LFW crops when the folder exists, else synthetic faces."""
    if root is not None and Path(root).is_dir():
        faces = load_face_folder(root, crop=(60, 60, 190, 190), image_size=150)
        source = f"LFW crops ({root})"
    else:
        faces = make_synthetic_faces(n_people=8, n_per_person=max(1, n // 8 + 1),
                                     image_size=150)
        source = "synthetic faces"
    chips = faces.images[np.random.default_rng(0).permutation(len(faces.images))[:n]]
    return np.stack([resnet_chip(c, "course") for c in chips]), source


def dlib_loop(chips):
    recognizer = face_recognizer()
    return np.array([recognizer.compute_face_descriptor(chip) for chip in chips])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200, help="chips per repetition (200)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved repetitions (5)")
    parser.add_argument("--n-jobs", type=int, default=2, help="FaceEmbedding's processes (2)")
    parser.add_argument("--root", default=str(DEFAULT_ROOT), help="LFW folder (else synthetic)")
    args = parser.parse_args(argv)

    chips, source = chips_150(args.n, args.root)
    print(f"{len(chips)} chips of 150x150 from {source}; {os.cpu_count()} CPU(s), load "
          f"average {os.getloadavg()[0]:.1f}", flush=True)
    one = FaceEmbedding(framing="dlib", n_jobs=1)
    many = FaceEmbedding(framing="dlib", n_jobs=args.n_jobs)
    start = time.perf_counter()
    many.transform(chips[: 8 * args.n_jobs])  # start the workers, load the network there
    print(f"first call (workers start, load the network): "
          f"{time.perf_counter() - start:.1f} s", flush=True)
    # The same numbers as dlib's own loop, or the comparison means nothing.
    np.testing.assert_allclose(many.transform(chips[:32]), dlib_loop(chips[:32]), atol=1e-6)
    times = {"dlib loop": [], "FaceEmbedding(n_jobs=1)": [],
             f"FaceEmbedding(n_jobs={args.n_jobs})": []}
    runs = {"dlib loop": dlib_loop, "FaceEmbedding(n_jobs=1)": one.transform,
            f"FaceEmbedding(n_jobs={args.n_jobs})": many.transform}
    worker_rss = 0
    for repeat in range(args.repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run(chips)
            times[name].append(time.perf_counter() - start)
            # The workers live on between calls: sample their resident sets.
            children = psutil.Process().children(recursive=True)
            worker_rss = max([worker_rss] + [c.memory_info().rss for c in children])
        print(f"repetition {repeat + 1}: " + ", ".join(
            f"{name} {values[-1]:.1f} s" for name, values in times.items()), flush=True)
    baseline = statistics.median(times["dlib loop"])
    print("| method | median s | chips/s | vs dlib loop | spread |")
    print("|---|--:|--:|--:|--:|")
    for name, values in times.items():
        median = statistics.median(values)
        spread = (max(values) - min(values)) / median
        print(f"| {name} | {median:.2f} | {len(chips) / median:.1f} | {baseline / median:.2f} "
              f"| {spread:.2f} |")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: this process {own:.0f} MiB, largest worker {worker_rss / 2**20:.0f} MiB "
          f"(sampled after each run), {args.n_jobs} workers")


if __name__ == "__main__":
    main()
