"""Write result files so that a reader never sees a half-written one, and keep a
record of them, so that a later run removes only what an earlier one wrote."""

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

#: The record, in a result folder, of the files written there and their SHA-256.
MANIFEST = ".facenet_sk-files.json"

_PARTIAL_PREFIX = ".partial-"


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
        raise OSError(
            f"cannot create output folder {str(out_dir)!r}: {exc.strerror or exc}"
        ) from exc
    if not os.access(out_dir, os.W_OK):
        raise PermissionError(f"output folder {str(out_dir)!r} is not writable")
    return out_dir


def _digest(path):
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()


def _plain_name(name):
    """True for the name of a visible file directly in the folder (no path, no '..')."""
    return (
        isinstance(name, str)
        and name == Path(name).name
        and name not in ("", ".", "..")
        and not name.startswith(".")
        and "\\" not in name
    )


def read_manifest(out_dir):
    """{file name: SHA-256} of the files recorded in ``out_dir``'s :data:`MANIFEST`.

    A missing or unreadable record is an empty one; an entry that is not a
    plain file name of ``out_dir`` (a path, ``..``) is ignored.

    Examples
    --------
    >>> read_manifest("/no/such/folder")
    {}
    """
    try:
        files = json.loads((Path(out_dir) / MANIFEST).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(files, dict):
        return {}
    return {
        name: digest
        for name, digest in files.items()
        if _plain_name(name) and isinstance(digest, str)
    }


def is_recorded(out_dir, name, manifest=None):
    """True when ``out_dir/name`` is a regular file that still holds what was recorded."""
    manifest = read_manifest(out_dir) if manifest is None else manifest
    path = Path(out_dir) / name
    return (
        name in manifest
        and not path.is_symlink()
        and path.is_file()
        and _digest(path) == manifest[name]
    )


def _write_manifest(folder, files):
    text = json.dumps({"files": dict(sorted(files.items()))}, indent=1) + "\n"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f"{MANIFEST}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, Path(folder) / MANIFEST)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def staged_directory(out_dir):
    """Yield a temporary folder beside ``out_dir``; move its files into place on success.

    Files are written into the temporary folder first. Only when the block
    ends without error is each file renamed into ``out_dir`` (a rename on
    the same file system is atomic); on any error, including Ctrl-C or a
    full disk, the temporary folder is removed and ``out_dir`` is untouched.
    The files moved are added to ``out_dir``'s record (:data:`MANIFEST`),
    with their SHA-256, so that :func:`remove_recorded` can later remove
    them and nothing else.

    Examples
    --------
    >>> with staged_directory("results") as tmp:  # doctest: +SKIP
    ...     (tmp / "results.csv").write_text("model,accuracy\\n")
    """
    out_dir = check_output_dir(out_dir)
    tmp = Path(tempfile.mkdtemp(dir=out_dir, prefix=_PARTIAL_PREFIX))
    try:
        yield tmp
        written = {file.name: _digest(file) for file in sorted(tmp.iterdir())}
        # Earlier entries stay while their files are there: a run stopped between
        # writing and clearing up leaves nothing unrecorded, and a file changed
        # since is known as such (remove_recorded leaves it alone).
        kept = {
            name: digest
            for name, digest in read_manifest(out_dir).items()
            if name not in written and (out_dir / name).exists()
        }
        for name in written:
            os.replace(tmp / name, out_dir / name)
        _write_manifest(out_dir, {**kept, **written})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def foreign_files(out_dir):
    """Names in ``out_dir`` that are not recorded, or changed since: ``(unrecorded, changed)``.

    The record itself and unfinished temporary folders are not counted.
    """
    out_dir = Path(out_dir)
    manifest = read_manifest(out_dir)
    unrecorded, changed = [], []
    if not out_dir.is_dir():
        return unrecorded, changed
    for path in sorted(out_dir.iterdir()):
        name = path.name
        if name == MANIFEST or name.startswith(_PARTIAL_PREFIX) or name.startswith(f"{MANIFEST}."):
            continue
        if name not in manifest:
            unrecorded.append(name)
        elif not is_recorded(out_dir, name, manifest):
            changed.append(name)
    return unrecorded, changed


def remove_recorded(out_dir, keep=()):
    """Remove the recorded files of ``out_dir`` not named in ``keep``; return their names.

    Only a regular file that still holds what was recorded is removed; every
    other file is left alone. The record is updated to what remains.

    Examples
    --------
    >>> remove_recorded("/no/such/folder")
    []
    """
    out_dir = Path(out_dir)
    recorded = read_manifest(out_dir)
    keep = {Path(name).name for name in keep}
    removed = []
    for name in sorted(set(recorded) - keep):
        if is_recorded(out_dir, name, recorded):
            (out_dir / name).unlink()
            removed.append(name)
    remaining = {name: digest for name, digest in recorded.items() if name in keep}
    if remaining != recorded:
        _write_manifest(out_dir, remaining)
    return removed
