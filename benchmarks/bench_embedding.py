"""FaceEmbedding's engines against dlib's own one-image-at-a-time loop, side by side.

All embed the same aligned 150x150 chips (``framing="dlib"``: no resizing,
so each does exactly the ResNet's work):

* ``dlib loop``: ``compute_face_descriptor`` on one chip after the other in
  this process (the baseline of every ratio);
* ``dlib engine, n_jobs=N``: ``FaceEmbedding(engine="dlib")``, the chips
  split over N worker processes;
* ``torch, n_jobs=1`` / ``n_jobs=N``: the default engine, dlib's network in
  PyTorch, batched on 1 or N threads of this one process, float32;
* ``torch bfloat16, n_jobs=1`` / ``n_jobs=N``: the same in bfloat16 (autocast).

The repetitions are interleaved (every method in each repetition) so that a
shared machine's load falls on all alike; medians are reported. Workers and
networks are started and loaded before the timing. The numbers are checked
first: every engine within 1e-4 of dlib's loop (float32), bfloat16's largest
difference printed. Then the whole own-photos path on ``--detect-n`` photos
of the LFW folder: ``load_face_folder(detect=True)`` (finding, aligning,
cutting) followed by the embedding of what it returns, with each engine.
The CPU's vector features are printed, as they decide what bfloat16 gains.

Usage::

    python benchmarks/bench_embedding.py [--n 200] [--repeats 5] [--n-jobs 2]
        [--detect-n 100] [--root LFW]
"""

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import torch

from facenet_sk.datasets import load_face_folder, make_synthetic_faces
from facenet_sk.faces import FaceEmbedding
from facenet_sk.faces._embedding import resnet_chip
from facenet_sk.faces._models import face_recognizer

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "lfw_deepfunneled"
#: The vector features that matter to float32 and bfloat16 convolutions.
FEATURES = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_tile")


def cpu_features():
    """The features of FEATURES this CPU has, from /proc/cpuinfo (Linux)."""
    try:
        flags = next(
            line
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("flags")
        ).split()
    except (OSError, StopIteration):
        return "unknown (no /proc/cpuinfo)"
    present = [f for f in FEATURES if f in flags]
    absent = [f for f in FEATURES if f not in flags]
    return f"has {', '.join(present) or 'none'}; lacks {', '.join(absent) or 'none'}"


def chips_150(n, root):
    """n aligned 150x150 chips: LFW crops when the folder exists, else synthetic faces."""
    if root is not None and Path(root).is_dir():
        faces = load_face_folder(root, crop=(60, 60, 190, 190), image_size=150)
        source = f"LFW crops ({root})"
    else:
        faces = make_synthetic_faces(n_people=8, n_per_person=max(3, n // 8 + 1), image_size=150)
        source = "synthetic faces"
    chips = faces.images[np.random.default_rng(0).permutation(len(faces.images))[:n]]
    return np.stack([resnet_chip(c, "course") for c in chips]), source


def dlib_loop(chips):
    recognizer = face_recognizer()
    return np.array([recognizer.compute_face_descriptor(chip) for chip in chips])


def whole_path(root, n_photos, n_jobs, models):
    """Time load_face_folder(detect=True) on n_photos photos, then each embedding."""
    photos = sorted(Path(root).glob("*/*.jpg"))
    photos = [photos[i] for i in np.linspace(0, len(photos) - 1, n_photos).astype(int)]
    with tempfile.TemporaryDirectory() as folder:
        for photo in photos:  # links: the photos are never copied
            person = Path(folder) / photo.parent.name
            person.mkdir(exist_ok=True)
            (person / photo.name).symlink_to(photo)
        start = time.perf_counter()
        faces = load_face_folder(folder, detect=True, n_jobs=n_jobs)
        detect = time.perf_counter() - start
    print(
        f"whole path on {len(photos)} photos: load_face_folder(detect=True, "
        f"n_jobs={n_jobs}) {detect:.1f} s ({len(faces.images)} faces of "
        f"{faces.images.shape[1]} px)"
    )
    print("| embedding after detection | embed s | detect + embed s | photos/s | vs dlib |")
    print("|---|--:|--:|--:|--:|")
    base = None
    for name, model in models.items():
        start = time.perf_counter()
        model.transform(faces.images)
        embed = time.perf_counter() - start
        base = base or detect + embed
        print(
            f"| {name} | {embed:.1f} | {detect + embed:.1f} | "
            f"{len(photos) / (detect + embed):.1f} | {base / (detect + embed):.2f} |"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200, help="chips per repetition (200)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved repetitions (5)")
    parser.add_argument("--n-jobs", type=int, default=2, help="processes or threads (2)")
    parser.add_argument(
        "--detect-n",
        type=int,
        default=100,
        help="photos for the whole path with detection (100; 0: skip)",
    )
    parser.add_argument("--root", default=str(DEFAULT_ROOT), help="LFW folder (else synthetic)")
    args = parser.parse_args(argv)
    jobs = args.n_jobs

    chips, source = chips_150(args.n, args.root)
    print(
        f"{len(chips)} chips of 150x150 from {source}; {os.cpu_count()} CPU(s), load "
        f"average {os.getloadavg()[0]:.1f}; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads by default",
        flush=True,
    )
    print(f"CPU features: {cpu_features()}", flush=True)
    models = {
        f"dlib engine, n_jobs={jobs}": FaceEmbedding(framing="dlib", engine="dlib", n_jobs=jobs),
        "torch, n_jobs=1": FaceEmbedding(framing="dlib", device="cpu", n_jobs=1),
        f"torch, n_jobs={jobs}": FaceEmbedding(framing="dlib", device="cpu", n_jobs=jobs),
        "torch bfloat16, n_jobs=1": FaceEmbedding(
            framing="dlib", device="cpu", n_jobs=1, precision="bfloat16"
        ),
        f"torch bfloat16, n_jobs={jobs}": FaceEmbedding(
            framing="dlib", device="cpu", n_jobs=jobs, precision="bfloat16"
        ),
    }
    start = time.perf_counter()
    for model in models.values():  # start the workers, load (or convert) the networks
        model.transform(chips[: 8 * jobs])
    print(
        f"first calls (workers start, networks load): {time.perf_counter() - start:.1f} s",
        flush=True,
    )
    # The same numbers as dlib's own loop, or the comparison means nothing.
    reference = dlib_loop(chips[:32])
    for name, model in models.items():
        difference = np.abs(model.transform(chips[:32]) - reference).max()
        print(f"largest coordinate difference to dlib's loop, {name}: {difference:.2g}")
        if "bfloat16" not in name:
            assert difference < 1e-4, name
    runs = {"dlib loop": dlib_loop, **{name: m.transform for name, m in models.items()}}
    times = {name: [] for name in runs}
    worker_rss = 0
    for repeat in range(args.repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run(chips)
            times[name].append(time.perf_counter() - start)
            # The workers live on between calls: sample their resident sets.
            children = psutil.Process().children(recursive=True)
            worker_rss = max([worker_rss] + [c.memory_info().rss for c in children])
        print(
            f"repetition {repeat + 1}: "
            + ", ".join(f"{name} {values[-1]:.1f} s" for name, values in times.items()),
            flush=True,
        )
    baseline = statistics.median(times["dlib loop"])
    print("| method | median s | chips/s | vs dlib loop | spread |")
    print("|---|--:|--:|--:|--:|")
    for name, values in times.items():
        median = statistics.median(values)
        spread = (max(values) - min(values)) / median
        print(
            f"| {name} | {median:.2f} | {len(chips) / median:.1f} | {baseline / median:.2f} "
            f"| {spread:.2f} |"
        )
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak RSS: this process {own:.0f} MiB, largest worker {worker_rss / 2**20:.0f} MiB "
        f"(sampled after each run), {jobs} workers"
    )
    if args.detect_n and Path(args.root).is_dir():
        whole_path(
            args.root,
            args.detect_n,
            jobs,
            {
                "dlib engine, n_jobs=1": FaceEmbedding(engine="dlib", n_jobs=1),
                f"dlib engine, n_jobs={jobs}": FaceEmbedding(engine="dlib", n_jobs=jobs),
                "torch, n_jobs=1": FaceEmbedding(device="cpu", n_jobs=1),
                f"torch, n_jobs={jobs}": FaceEmbedding(device="cpu", n_jobs=jobs),
            },
        )
    else:
        print("whole path: skipped (no LFW folder, or --detect-n 0)")


if __name__ == "__main__":
    main()
