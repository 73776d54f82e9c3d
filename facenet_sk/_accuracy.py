"""The epoch's accuracy, counted batch by batch as training goes.

skorch's ``EpochScoring("accuracy")`` keeps every batch's output and, at the
end of the epoch, runs them through the net's ``predict`` (softmax, a copy
to NumPy, a concatenation) and scikit-learn's scorer with its parameter
checks: a noticeable part of a short epoch (``benchmarks/README.md``).
Counting the correct predictions of each batch as it passes
gives the same number for a few microseconds a batch.
"""

import torch
from skorch.callbacks import Callback
from skorch.dataset import unpack_data


class BatchAccuracy(Callback):
    """Record the fraction of an epoch's samples whose largest output is their label.

    The accuracy of the outputs the network gave each batch while it passed
    (during training, before that batch's update), as skorch's cached
    ``EpochScoring("accuracy", lower_is_better=False)`` computes it; softmax
    keeps the order of the logits, so their argmax is the predicted class.
    Like it, it records ``<name>`` and ``<name>_best`` in the history.

    Parameters
    ----------
    name : str, default="train_acc"
        The history key.
    on_train : bool, default=True
        Count the training batches (True) or the validation batches (False).

    Examples
    --------
    >>> import numpy as np
    >>> from skorch import NeuralNetClassifier
    >>> from torch import nn
    >>> X = np.eye(4, dtype=np.float32)
    >>> y = np.array([0, 1, 0, 1])
    >>> net = NeuralNetClassifier(nn.Linear(4, 2), max_epochs=1, train_split=None,
    ...                           verbose=0, callbacks=[BatchAccuracy()]).fit(X, y)
    >>> 0.0 <= net.history[-1, "train_acc"] <= 1.0
    True
    """

    def __init__(self, name="train_acc", on_train=True):
        self.name = name
        self.on_train = on_train

    def initialize(self):
        self.best_score_ = float("-inf")
        self._reset()
        return self

    def _reset(self):
        self.correct_ = None  # a tensor on the network's device: no sync per batch
        self.count_ = 0

    def on_epoch_begin(self, net, **kwargs):
        self._reset()

    def on_batch_end(self, net, batch, y_pred, training, **kwargs):
        if training != self.on_train:
            return
        _, y = unpack_data(batch)
        if y is None:
            return
        hits = (y_pred.detach().argmax(dim=1) == torch.as_tensor(y, device=y_pred.device)).sum()
        self.correct_ = hits if self.correct_ is None else self.correct_ + hits
        self.count_ += len(y)

    def on_epoch_end(self, net, **kwargs):
        if not self.count_:
            return
        score = int(self.correct_) / self.count_
        net.history.record(self.name, score)
        is_best = score > self.best_score_
        net.history.record(f"{self.name}_best", is_best)
        if is_best:
            self.best_score_ = score
