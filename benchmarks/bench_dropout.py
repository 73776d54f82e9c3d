"""The price of dropout in a training step of the course's CNN, side by side in one process.

Training steps (forward, backward and fused Adam; a batch of 128 images of
48x48x3; glibc's malloc tuned as ``fit`` tunes it) of three networks built
by facenet_sk:

* ``cnn``;
* ``cnn_dropout``, with facenet_sk's :class:`~facenet_sk.nets.Dropout`;
* ``cnn_dropout`` with PyTorch's own ``nn.Dropout`` in its place.

They run one step at a time, each taking every place in the order in turn,
so that a noisy, shared machine slows all three alike. The script prints
the median step of each, the median over rounds of each step over ``cnn``'s
step of the same round, and the time facenet_sk's dropout spends drawing
its masks per step.

Usage::

    python benchmarks/bench_dropout.py              # 60 rounds, about a minute
    python benchmarks/bench_dropout.py --smoke      # tiny, for CI
"""

import argparse
import statistics
import time

import torch
from torch import nn

from facenet_sk import _dropout, allow_malloc_tuning, make_model
from facenet_sk._malloc import reuse_freed_memory


def build(name, own_dropout=True):
    """The module of model ``name`` in training mode, with nn.Dropout if not ``own_dropout``."""
    module = make_model(name).module_for_summary().train()
    if not own_dropout:
        for key, layer in module.named_children():
            if isinstance(layer, _dropout.Dropout):
                setattr(module, key, nn.Dropout(layer.p))
    return module


class MaskClock:
    """Seconds spent in facenet_sk's mask drawing while it is installed."""

    def __init__(self):
        self.seconds, self.calls = 0.0, 0
        self._draw = _dropout.dropout_noise

    def __enter__(self):
        def timed(like, p):
            start = time.perf_counter()
            noise = self._draw(like, p)
            self.seconds += time.perf_counter() - start
            self.calls += 1
            return noise

        _dropout.dropout_noise = timed
        return self

    def __exit__(self, *exc):
        _dropout.dropout_noise = self._draw


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    args = parser.parse_args(argv)
    if args.smoke:
        args.rounds, args.batch_size = 3, 16
    allow_malloc_tuning()
    torch.manual_seed(0)
    X = torch.randn(args.batch_size, 48 * 48 * 3)
    y = torch.randint(0, 8, (args.batch_size,))
    contestants = {
        "cnn": build("cnn"),
        "cnn_dropout": build("cnn_dropout"),
        "cnn_dropout, nn.Dropout": build("cnn_dropout", own_dropout=False),
    }
    optimizers = {
        name: torch.optim.Adam(module.parameters(), lr=1e-3, fused=True)
        for name, module in contestants.items()
    }
    loss = nn.CrossEntropyLoss()

    def step(name):
        start = time.perf_counter()
        optimizers[name].zero_grad(set_to_none=True)
        loss(contestants[name](X), y).backward()
        optimizers[name].step()
        return time.perf_counter() - start

    names = list(contestants)
    times = {name: [] for name in names}
    with reuse_freed_memory():
        for name in names:  # warm-up
            step(name)
        with MaskClock() as clock:
            for round_ in range(args.rounds):
                turn = round_ % len(names)
                for name in names[turn:] + names[:turn]:
                    times[name].append(step(name))
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; batch "
        f"{args.batch_size}, {args.rounds} rounds of one step each"
    )
    print(f"{'network':<26}{'median step ms':>16}{'vs cnn':>10}")
    for name in names:
        ratios = [t / c for t, c in zip(times[name], times["cnn"])]
        print(
            f"{name:<26}{statistics.median(times[name]) * 1e3:>16.1f}"
            f"{statistics.median(ratios) - 1:>+10.1%}"
        )
    # Only "cnn_dropout" draws facenet_sk's masks: one of its steps per round.
    print(
        f"facenet_sk's masks: {clock.seconds / args.rounds * 1e3:.2f} ms per step "
        f"({clock.calls // args.rounds} dropout layers)"
    )
    return times


if __name__ == "__main__":
    main()
