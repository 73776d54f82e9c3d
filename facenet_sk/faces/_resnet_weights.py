"""The PyTorch weights of dlib's face ResNet: converted once, kept on disk.

Converting dlib's model file takes a second or two; the result is kept in
the library's data folder (:func:`facenet_sk.datasets.get_data_home`) under
a name that carries the model file's SHA-256, and holds that digest too. A
kept file is loaded with ``torch.load(weights_only=True)`` (no pickle code
runs) and used only when its digest, format, names and shapes are the ones
expected and every value is finite; anything else (a damaged or truncated
file, a file of another model or version) is converted again and replaced.
The file is written to a temporary name and renamed when complete, so that
processes converting at the same time never read half a file. The model file
itself is checked (present, its SHA-256 right) before kept weights are used,
and dlib must be installed, as for every tool of the faces extra.
"""

import functools
import os
import tempfile
from pathlib import Path

import torch

from ..datasets import get_data_home
from ._models import MODEL_FILES, import_dlib, model_path
from ._resnet import FaceResNet, state_dict_from_dlib

_MODEL = "dlib_face_recognition_resnet_model_v1.dat"
# Bumped whenever the conversion changes, so that older files are replaced.
_FORMAT = 1
#: Sub-folder of the data folder that holds converted weights.
WEIGHTS_FOLDER = "face_models"


def weights_path(data_home=None):
    """Where the converted weights are kept.

    Parameters
    ----------
    data_home : path-like, default=None
        The library's data folder (see :func:`~facenet_sk.datasets.get_data_home`).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> weights_path("/tmp/faces").name
    'dlib_face_resnet_55533b28a95800a5_v1.pt'
    """
    digest = MODEL_FILES[_MODEL][:16]
    return (
        Path(get_data_home(data_home)) / WEIGHTS_FOLDER / f"dlib_face_resnet_{digest}_v{_FORMAT}.pt"
    )


def _expected_shapes():
    return {name: tuple(value.shape) for name, value in FaceResNet().state_dict().items()}


def _valid(kept):
    """True when ``kept`` is what :func:`_save` wrote for this model file."""
    if (
        not isinstance(kept, dict)
        or kept.get("source_sha256") != MODEL_FILES[_MODEL]
        or kept.get("format") != _FORMAT
        or not isinstance(kept.get("state_dict"), dict)
    ):
        return False
    state = kept["state_dict"]
    if {
        name: tuple(getattr(value, "shape", ())) for name, value in state.items()
    } != _expected_shapes():
        return False
    return all(
        isinstance(value, torch.Tensor)
        and value.dtype == torch.float32
        and bool(torch.isfinite(value).all())
        for value in state.values()
    )


def _save(state, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".partial-", suffix=".pt")
    try:
        # mkstemp's files are private (0600); the folder's files are not.
        os.chmod(tmp, 0o644)
        with os.fdopen(fd, "wb") as file:
            torch.save(
                {"source_sha256": MODEL_FILES[_MODEL], "format": _FORMAT, "state_dict": state}, file
            )
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_state_dict(data_home=None):
    """The network's weights: kept ones when valid, else converted and kept.

    Parameters
    ----------
    data_home : path-like, default=None
        The library's data folder.

    Returns
    -------
    dict of str to torch.Tensor
    """
    # The model file is checked even when kept weights exist: a missing or
    # damaged installation is the same clear error as for dlib's own engine.
    source = model_path(_MODEL)
    path = weights_path(data_home)
    try:
        kept = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 -- missing, truncated, not torch, forbidden types
        kept = None
    if _valid(kept):
        return kept["state_dict"]
    state = state_dict_from_dlib(Path(source).read_bytes())
    try:
        _save(state, path)
    except OSError:
        pass  # a read-only data folder: convert again next time
    return state


@functools.cache
def face_resnet(device="cpu"):
    """The network on ``device``, in evaluation mode, loaded once per process.

    Parameters
    ----------
    device : str
        A torch device name, such as ``"cpu"`` or ``"cuda"``.

    Returns
    -------
    FaceResNet
    """
    # One rule for the whole faces extra: without dlib, every face tool says
    # how to install it, this engine included.
    import_dlib()
    net = FaceResNet()
    net.load_state_dict(load_state_dict())
    net.requires_grad_(False)
    # oneDNN's and cuDNN's fastest convolutions take channels-last images.
    return net.eval().to(device=device, memory_format=torch.channels_last)
