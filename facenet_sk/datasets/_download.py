"""Download a file to a temporary name and move it into place only when valid.

scikit-learn's :func:`sklearn.datasets.fetch_file` (1.6+) downloads to a
temporary file and checks a SHA256 too, but it shows no progress, does not
check the length the server announced, and takes no validation of the content
(the course's HDF5 file has no published checksum; its layout is what is
checked), so the course's file comes through this function instead.
"""

import http.client
import os
import secrets
import urllib.parse
import urllib.request
from pathlib import Path

_CHUNK_BYTES = 1 << 16


class DownloadError(OSError):
    """A download failed; nothing was left at the destination."""


def download_file(url, destination, *, validate=None, progress=True, timeout=60):
    """Download ``url`` to ``destination`` atomically.

    The bytes go to a temporary file beside ``destination``; the file is
    checked (complete length, then ``validate(path)``) and only then renamed
    into place, so an interrupted or wrong download never leaves a file at
    ``destination`` and a later call starts cleanly.

    Parameters
    ----------
    url : str
        Address to fetch (any scheme :func:`urllib.request.urlopen` reads).
    destination : path-like
        Final path of the file.
    validate : callable, default=None
        Called with the temporary path; raises if the content is wrong.
    progress : bool, default=True
        Show a tqdm progress bar.
    timeout : float, default=60
        Seconds to wait for the server at each read.

    Returns
    -------
    pathlib.Path
        ``destination``.

    Examples
    --------
    >>> download_file("https://example.org/data.h5", "/tmp/data.h5")  # doctest: +SKIP
    PosixPath('/tmp/data.h5')
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temporary(destination)
    try:
        with os.fdopen(fd, "wb") as out:
            _copy_url(url, out, progress=progress, timeout=timeout)
        if validate is not None:
            validate(tmp)
        os.replace(tmp, destination)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return destination


def _create_temporary(destination):
    """An open file descriptor and the path of a new hidden file beside ``destination``.

    Created with mode 0o666 less the umask, as ``open()`` creates files, so that
    the renamed download gets the usual mode (:func:`tempfile.mkstemp` would
    give it 0o600 whatever the umask).
    """
    while True:
        tmp = destination.parent / f".{destination.name}.{secrets.token_hex(6)}.part"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:  # a name already taken: draw another
            continue


def _copy_url(url, out, *, progress, timeout):
    """Stream ``url`` into the open file ``out``; raise DownloadError if short."""
    # Imported here, not with the module: tqdm.auto warns on import in a
    # notebook without ipywidgets, and most users of the loaders never download.
    from tqdm.auto import tqdm

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            expected = response.headers.get("Content-Length")
            expected = int(expected) if expected is not None else None
            received = 0
            with tqdm(
                total=expected,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=Path(urllib.parse.urlsplit(url).path).name or "download",
                disable=not progress,
                leave=False,
            ) as bar:
                while chunk := response.read(_CHUNK_BYTES):
                    out.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
    except http.client.IncompleteRead as exc:
        raise DownloadError(
            f"download from {url} was cut off after {len(exc.partial)} more bytes"
        ) from exc
    except (OSError, http.client.HTTPException) as exc:
        # OSError covers URLError and timeouts, and also the socket errors a
        # read can raise mid-body (a connection reset by the server).
        raise DownloadError(f"download from {url} failed: {exc}") from exc
    if expected is not None and received != expected:
        raise DownloadError(
            f"download from {url} is incomplete: received {received} of {expected} bytes"
        )
