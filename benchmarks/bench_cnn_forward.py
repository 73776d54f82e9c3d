"""Training step of the CNNs: CNN.forward's fused path against the layers one by one.

``CNN.forward`` pools before the ReLU in front of each pooling, runs every
other convolution and its ReLU as one oneDNN operator, and the ReLUs after
batch normalization in place; ``nn.Sequential.forward`` runs the listed
layers one by one (what a hook-watched network runs). Both give the same
values and gradients (tests/test_cnn_forward.py). One training step is
forward, backward and a fused Adam update on a batch of random images; the
two paths alternate, each first in every other repetition, on the same
module, in the same process.

Run ``python benchmarks/bench_cnn_forward.py`` (about two minutes on 2 cores);
``--smoke`` runs tiny sizes.
"""

import argparse
import statistics
import time

import torch
from torch import nn

from facenet_sk import allow_malloc_tuning, make_model
from facenet_sk.nets import CNN

CNN_NAMES = ("cnn", "cnn_dropout", "cnn_dropout_batchnorm")


def step_seconds(net, forward, X, y, optimizer, steps):
    """Mean seconds of ``steps`` training steps of ``net`` through ``forward``."""
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss_fn(forward(net, X), y).backward()
        optimizer.step()
    return (time.perf_counter() - start) / steps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(CNN_NAMES))
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=12)
    parser.add_argument("--steps", type=int, default=3, help="steps per timing")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check the script")
    args = parser.parse_args(argv)
    if args.smoke:
        args.batch_size, args.repeats, args.steps = 8, 2, 1
    allow_malloc_tuning()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; batch "
          f"{args.batch_size}, median of {args.repeats} x {args.steps} steps")
    paths = {"CNN.forward": CNN.forward, "layers one by one": nn.Sequential.forward}
    print(f"{'model':<24}{'CNN.forward ms':>16}{'one by one ms':>16}{'speed-up':>10}")
    for name in args.models.split(","):
        torch.manual_seed(0)
        net = make_model(name).module_for_summary().train()
        X = torch.randn(args.batch_size, *net.input_shape)
        y = torch.randint(0, 8, (args.batch_size,))
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, fused=True)
        times = {label: [] for label in paths}
        for label, forward in paths.items():  # warm-up
            step_seconds(net, forward, X, y, optimizer, 2)
        for repeat in range(args.repeats):
            order = list(paths.items())
            for label, forward in order[repeat % 2:] + order[:repeat % 2]:
                times[label].append(step_seconds(net, forward, X, y, optimizer, args.steps))
        fast, listed = (statistics.median(times[label]) for label in paths)
        print(f"{name:<24}{fast * 1e3:>16.1f}{listed * 1e3:>16.1f}{listed / fast:>9.2f}x",
              flush=True)


if __name__ == "__main__":
    main()
