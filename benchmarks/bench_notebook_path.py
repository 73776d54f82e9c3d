"""A network's epoch in a Jupyter notebook, in a plain script and in the command's process.

The same code -- a fresh ``make_model(name, max_epochs=E).fit(X, y)`` on
2,000 synthetic images of the course's shape, after one untimed short fit --
runs in three kinds of process, interleaved ``--repeats`` times:

(a) ``notebook``: a cell of a notebook executed by a Jupyter kernel
    (``nbclient`` and ``ipykernel``, the ``dev`` extra), nothing opted in;
(b) ``script``: a plain ``python`` process, nothing opted in;
(c) ``command``: a process set up the way ``facenet-sk`` sets up its own
    (``allow_malloc_tuning()``, which the command calls before any work).

Each reports its seconds per epoch (the whole fit's wall time over E); the
medians are compared with the command's: a ratio of 1.00 means the same
speed. The CPU's bfloat16 features are printed with the results.

Usage::

    python benchmarks/bench_notebook_path.py                 # cnn, 3 epochs, 3 repeats
    python benchmarks/bench_notebook_path.py --smoke         # tiny, for CI
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from facenet_sk._precision import cpu_bf16_units

#: The timed code; ``{setup}`` is what the process does first.
CODE = """
{setup}
import json, time
from facenet_sk import make_model
from facenet_sk.datasets import make_synthetic_faces
X, y = make_synthetic_faces(n_per_person={n_per_person}, subset="train", return_X_y=True)
make_model({name!r}, max_epochs=1, random_state=0).fit(X[:256], y[:256])
start = time.perf_counter()
make_model({name!r}, max_epochs={epochs}, random_state=0).fit(X, y)
print("RESULT", json.dumps((time.perf_counter() - start) / {epochs}))
"""
SETUPS = {
    "notebook": "",
    "script": "",
    "command": "from facenet_sk import allow_malloc_tuning; allow_malloc_tuning()",
}


def _result(text):
    for line in text.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line.split(" ", 1)[1])
    raise RuntimeError(f"no result in the output:\n{text}")


def run_script(code):
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return _result(done.stdout)


def run_notebook(code, kernel_dir):
    import nbclient
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    specs = KernelSpecManager(kernel_dirs=[str(kernel_dir)])
    km = KernelManager(kernel_name="python3", kernel_spec_manager=specs)
    nbclient.NotebookClient(nb, km=km, timeout=1200).execute()
    text = "".join(out.get("text", "") for out in nb.cells[0].outputs)
    return _result(text)


def this_interpreters_kernel(root):
    """A kernelspec 'python3' under ``root`` that runs this very interpreter."""
    spec = Path(root) / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "Python 3", "language": "python"})
    )
    return root


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--n-per-person", type=int, default=350, help="250 of them train")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    args = parser.parse_args(argv)
    if args.smoke:
        args.epochs, args.n_per_person, args.repeats = 1, 21, 1
    environment = {key: value for key, value in os.environ.items() if key.startswith("MALLOC_")}
    features = cpu_bf16_units() or ["no bf16 units"]
    print(
        f"{args.model}, {args.epochs} epochs, median of {args.repeats}; CPU: "
        f"{', '.join(features)}; malloc environment: {environment or 'none'}",
        flush=True,
    )
    seconds = {kind: [] for kind in SETUPS}
    with tempfile.TemporaryDirectory() as kernels:
        kernel_dir = this_interpreters_kernel(kernels)
        for _ in range(args.repeats):
            for kind, setup in SETUPS.items():
                code = CODE.format(
                    setup=setup,
                    name=args.model,
                    epochs=args.epochs,
                    n_per_person=args.n_per_person,
                )
                notebook = kind == "notebook"
                per_epoch = run_notebook(code, kernel_dir) if notebook else run_script(code)
                seconds[kind].append(per_epoch)
                print(f"  {kind}: {per_epoch:.3f} s per epoch", flush=True)
    median = {kind: statistics.median(times) for kind, times in seconds.items()}
    for kind, value in median.items():
        print(f"{kind}: {value:.3f} s per epoch, x{value / median['command']:.3f} the command's")
    return median


if __name__ == "__main__":
    main()
