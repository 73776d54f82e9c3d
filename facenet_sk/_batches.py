"""Mini-batches sliced from in-memory tensors.

skorch's default ``DataLoader`` collates every batch sample by sample, a
Python-level loop that costs more than the forward pass of the smaller
networks. The data here already sits in one float32 tensor, so a batch is a
slice (evaluation) or one ``index_select`` with a shuffled index (training).
"""

import torch
from torch.utils.data import Dataset


class TensorDataset(Dataset):
    """Features and optional labels held as whole tensors.

    skorch accepts any torch ``Dataset`` as X; ``X`` and ``y`` attributes let
    skorch's helpers (and :class:`BatchLoader`) reach the tensors directly.
    """

    def __init__(self, X, y=None):
        self.X = X
        self.y = y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], (self.y[i] if self.y is not None else torch.zeros(()))


class BatchLoader:
    """Iterate over a :class:`TensorDataset` in mini-batches.

    Parameters
    ----------
    dataset : TensorDataset
        The data.
    batch_size : int
        Samples per batch (the last batch may be smaller, or one larger when
        shuffling, see below).
    shuffle : bool, default=False
        Draw a new permutation every epoch.
    generator : torch.Generator, default=None
        Source of the permutations, for reproducible shuffling.
    transform : callable, default=None
        Applied to every X batch (training-time augmentation).
    """

    def __init__(self, dataset, batch_size, shuffle=False, generator=None, transform=None):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.transform = transform

    def _bounds(self):
        """(start, stop) of every batch.

        When shuffling (training), a last batch of a single sample joins the
        one before it: batch normalization cannot train on one sample (torch
        raises), which would make a training set of 129 or 257 images fail.
        """
        n = len(self.dataset)
        starts = list(range(0, n, self.batch_size))
        if self.shuffle and len(starts) > 1 and n - starts[-1] == 1:
            starts.pop()
        return [(start, stop) for start, stop in zip(starts, starts[1:] + [n])]

    def __len__(self):
        return len(self._bounds())

    def __iter__(self):
        X, y = self.dataset.X, self.dataset.y
        n = len(X)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else None
        for start, stop in self._bounds():
            if order is None:
                index = slice(start, stop)
                Xb, yb = X[index], (y[index] if y is not None else None)
            else:
                # index_select gathers rows several times faster than X[index],
                # which takes the general advanced-indexing path.
                index = order[start:stop]
                Xb = X.index_select(0, index)
                yb = y.index_select(0, index) if y is not None else None
            if self.transform is not None:
                Xb = self.transform(Xb)
            yield Xb, yb
