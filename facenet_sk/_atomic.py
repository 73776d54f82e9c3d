"""Write result files so that a reader never sees a half-written one."""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


def check_output_dir(out_dir):
    """Create ``out_dir`` if needed and check that it is writable; return it as a Path.

    Callers check before long work, so that a bad folder fails at once.

    Examples
    --------
    >>> check_output_dir("/tmp/results").name
    'results'
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(f"cannot create output folder {str(out_dir)!r}: {exc.strerror or exc}") \
            from exc
    if not os.access(out_dir, os.W_OK):
        raise PermissionError(f"output folder {str(out_dir)!r} is not writable")
    return out_dir


@contextlib.contextmanager
def staged_directory(out_dir):
    """Yield a temporary folder beside ``out_dir``; move its files into place on success.

    Files are written into the temporary folder first. Only when the block
    ends without error is each file renamed into ``out_dir`` (a rename on
    the same file system is atomic); on any error, including Ctrl-C or a
    full disk, the temporary folder is removed and ``out_dir`` is untouched.

    Examples
    --------
    >>> with staged_directory("results") as tmp:  # doctest: +SKIP
    ...     (tmp / "results.csv").write_text("model,accuracy\\n")
    """
    out_dir = check_output_dir(out_dir)
    tmp = Path(tempfile.mkdtemp(dir=out_dir, prefix=".partial-"))
    try:
        yield tmp
        for file in sorted(tmp.iterdir()):
            os.replace(file, out_dir / file.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
