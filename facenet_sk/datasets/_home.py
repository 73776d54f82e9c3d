"""Where downloaded data sets live on disk."""

import os
from pathlib import Path

#: Environment variable that overrides the default data folder.
DATA_HOME_ENV = "FACENET_SK_DATA"


def get_data_home(data_home=None):
    """Return the folder that holds downloaded data sets, creating it.

    The folder is, in order of precedence: ``data_home`` when given, the
    ``FACENET_SK_DATA`` environment variable, then ``~/facenet_sk_data``
    (the convention of :func:`sklearn.datasets.get_data_home`).

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder to use instead of the default.

    Returns
    -------
    pathlib.Path
        The folder, which exists when this function returns.

    Examples
    --------
    >>> from facenet_sk.datasets import get_data_home
    >>> get_data_home("/tmp/faces").name
    'faces'
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV, Path("~") / "facenet_sk_data")
    path = Path(data_home).expanduser()
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"data_home {str(path)!r} exists but is not a folder")
    path.mkdir(parents=True, exist_ok=True)
    return path
