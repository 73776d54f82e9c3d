"""How long ``facenet-sk --help`` (and each command's --help) takes to answer.

The command imports torch, scikit-learn and pandas only when a command needs
them, so that --help and mistakes on the command line answer at once. This
script runs each --help in a fresh interpreter, as a user's shell does, and
prints the median wall time; for comparison, the time of ``import torch``
alone in the same way.

    python benchmarks/bench_cli_help.py --repeats 5
"""

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "facenet-sk --help": ["-m", "facenet_sk.cli", "--help"],
    "facenet-sk compare --help": ["-m", "facenet_sk.cli", "compare", "--help"],
    "facenet-sk grid --help": ["-m", "facenet_sk.cli", "grid", "--help"],
    "python -c 'import torch'": ["-c", "import torch"],
}


def wall_seconds(args):
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each command (5)")
    args = parser.parse_args(argv)
    wall_seconds(COMMANDS["facenet-sk --help"])  # warm the file cache
    print(f"{'command':<28} {'median s':>9} {'min s':>7} {'max s':>7}")
    for label, command in COMMANDS.items():
        times = [wall_seconds(command) for _ in range(args.repeats)]
        print(f"{label:<28} {statistics.median(times):>9.3f} {min(times):>7.3f} {max(times):>7.3f}")


if __name__ == "__main__":
    main()
