"""The skorch net inside every classifier, and how it is built.

The estimators (``_base.py``) validate data and hyper-parameters; this module
turns validated settings into a skorch :class:`~skorch.NeuralNetClassifier`
around a PyTorch module: optimizer and loss with their routed arguments
(skorch's ``optimizer__*`` / ``criterion__*``), callbacks, batch loaders,
device and threads.
"""

import contextlib

import numpy as np
import torch
from skorch import NeuralNetClassifier
from skorch.callbacks import EarlyStopping, ProgressBar
from skorch.helper import predefined_split
from torch import nn

from ._accuracy import BatchAccuracy
from ._batches import BatchLoader
from ._config import get_config
from ._params import OPTIMIZERS
from ._precision import autocast_dtype
from ._progress import EpochTable
from ._threads import dask_task_threads

#: The loss of every network: cross-entropy on the logits.
CRITERION = nn.CrossEntropyLoss


class SkorchNet(NeuralNetClassifier):
    """skorch's classifier, remembering whether Ctrl-C ended its training,
    and pickling its module once.

    skorch stops training on KeyboardInterrupt and keeps the weights reached
    so far; the flag lets callers (the CLI, compare_models) stop too.
    """

    # skorch keeps the module instance it is given as ``module`` and trains that
    # very object as ``module_``, but saves only ``module_`` the device-aware way.
    # Pickled as is, the weights would be stored twice, and a model trained on a
    # GPU could not be loaded where there is none: save ``module`` as a reference.
    _SAME_AS_MODULE_ = "<module_>"

    def __init__(self, *args, autocast_dtype=None, **kwargs):
        super().__init__(*args, **kwargs)
        #: torch.bfloat16 for mixed precision, None for float32 (see ``_precision``).
        self.autocast_dtype = autocast_dtype

    def infer(self, x, **fit_params):
        """skorch's forward pass, under autocast in mixed precision; float32 logits."""
        if self.autocast_dtype is None:
            return super().infer(x, **fit_params)
        with torch.autocast(torch.device(self.device).type, dtype=self.autocast_dtype):
            logits = super().infer(x, **fit_params)
        return logits.float()  # the loss and the accuracy in float32

    def __getstate__(self):
        shared = self.__dict__.get("module") is self.__dict__.get("module_") is not None
        state = super().__getstate__()
        if shared:
            state["module"] = self._SAME_AS_MODULE_
        return state

    def __setstate__(self, state):
        shared = state.get("module") == self._SAME_AS_MODULE_
        super().__setstate__(state)
        if shared:
            self.module = self.module_

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        self.interrupted_ = False
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt:
            self.interrupted_ = True
            raise


@contextlib.contextmanager
def torch_threads(n_threads):
    """Run the block with ``torch.set_num_threads(n_threads)``, then restore.

    None leaves torch's setting, except in a Dask task: there the task takes
    the threads its worker gives it (see ``_threads.dask_task_threads``).

    Examples
    --------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if n_threads is None:
        n_threads = dask_task_threads()
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def resolve_device(device):
    """The torch device name for the ``device`` hyper-parameter ("auto": CUDA if any)."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for, but no CUDA device is available")
    return device


def optimizer_class(optimizer):
    """The optimizer class for the ``optimizer`` hyper-parameter (a name or a class)."""
    return OPTIMIZERS[optimizer] if isinstance(optimizer, str) else optimizer


def _fused_optimizer_params(optimizer, device, given):
    """``{"fused": True}`` for Adam and AdamW where PyTorch has a fused kernel, else {}.

    Fused Adam updates every weight in one pass instead of about ten, the
    same arithmetic. PyTorch has the kernel on CUDA and, from 2.4 on, the
    CPU. Not when the user's ``optimizer_params`` choose an implementation
    (``fused`` or ``foreach``), nor while the ``fused_adam`` switch is off.
    """
    if (
        optimizer not in (torch.optim.Adam, torch.optim.AdamW)
        or {"fused", "foreach"} & set(given)
        or not get_config()["fused_adam"]
    ):
        return {}
    kind = torch.device(device).type
    major, minor = (int(part) for part in torch.__version__.split(".")[:2])
    return {"fused": True} if kind == "cuda" or (kind == "cpu" and (major, minor) >= (2, 4)) else {}


def _silent(*args, **kwargs):
    """A sink that drops skorch's messages when the estimator is not verbose."""


def build_net(estimator, module, *, n_classes, device, seed, valid, criterion_weight, transform):
    """The skorch net that trains ``module`` with ``estimator``'s hyper-parameters.

    ``estimator``'s hyper-parameters are read as they are (checked by its
    ``fit``); ``valid`` is a dataset scored after every epoch (or None);
    ``optimizer_params`` and ``criterion_params`` are routed to the
    optimizer and the loss as skorch's ``optimizer__*`` and ``criterion__*``.
    """
    optimizer = optimizer_class(estimator.optimizer)
    given = estimator.optimizer_params or {}
    routed = {
        f"optimizer__{k}": v
        for k, v in {**_fused_optimizer_params(optimizer, device, given), **given}.items()
    }
    if estimator.weight_decay:
        routed["optimizer__weight_decay"] = float(estimator.weight_decay)
    routed.update({f"criterion__{k}": v for k, v in (estimator.criterion_params or {}).items()})
    routed["criterion__weight"] = criterion_weight
    verbose = int(estimator.verbose)
    scoring = [("train_acc", BatchAccuracy("train_acc", on_train=True))]
    if estimator.early_stopping:
        scoring.append(
            (
                "early_stopping",
                EarlyStopping(
                    monitor="valid_loss",
                    patience=int(estimator.n_iter_no_change),
                    load_best=True,
                    sink=print if verbose else _silent,
                ),
            )
        )
    if verbose >= 2:
        scoring.append(("progress_bar", ProgressBar()))
    return SkorchNet(
        module=module,
        criterion=CRITERION,
        optimizer=optimizer,
        lr=float(estimator.lr),
        **routed,
        max_epochs=int(estimator.max_epochs),
        batch_size=int(estimator.batch_size),
        iterator_train=BatchLoader,
        iterator_train__shuffle=True,
        iterator_train__generator=torch.Generator().manual_seed(seed),
        iterator_train__transform=transform,
        iterator_valid=BatchLoader,
        train_split=None if valid is None else predefined_split(valid),
        callbacks=scoring + list(estimator.callbacks or []),
        classes=np.arange(n_classes),
        device=device,
        verbose=verbose,
        callbacks__print_log=EpochTable,  # no colour codes in files, pipes, NO_COLOR
        # The validation accuracy counted as the batches pass, as train_acc is,
        # in place of skorch's default valid_acc callback of the same name.
        callbacks__valid_acc=BatchAccuracy("valid_acc", on_train=False),
        autocast_dtype=autocast_dtype(estimator.precision, device),
    )


def set_validation(net, valid):
    """Score ``valid`` (a dataset, or None) after every epoch of the next training."""
    net.train_split = None if valid is None else predefined_split(valid)
