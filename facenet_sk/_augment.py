"""On-the-fly image augmentation of flat training batches."""

import torch


class FlipShift:
    """Random horizontal flips and small shifts of flat (n, H*W*C) image rows.

    Every image of a batch gets its own flip (probability 1/2) and its own
    shift of up to ``max_shift`` pixels in each direction, with the border
    pixels repeated. One gather does it all, so it costs about as much as
    copying the batch.

    Parameters
    ----------
    image_shape : tuple of int
        (height, width, channels) of the images.
    max_shift : int, default=4
        Largest shift in pixels.
    seed : int, default=0
        Seed of the augmentation's own random generator.

    Examples
    --------
    >>> import torch
    >>> augment = FlipShift((48, 48, 3), max_shift=4, seed=0)
    >>> augment(torch.zeros(5, 48 * 48 * 3)).shape
    torch.Size([5, 6912])
    """

    def __init__(self, image_shape, max_shift=4, seed=0):
        self.image_shape = tuple(image_shape)
        self.max_shift = max_shift
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, X):
        height, width, _ = self.image_shape
        n = len(X)
        images = X.reshape(n, *self.image_shape)
        g = self.generator
        shift = torch.randint(-self.max_shift, self.max_shift + 1, (2, n, 1), generator=g)
        rows = (torch.arange(height) + shift[0]).clamp_(0, height - 1)
        cols = (torch.arange(width) + shift[1]).clamp_(0, width - 1)
        flip = torch.rand(n, 1, generator=g) < 0.5
        cols = torch.where(flip, width - 1 - cols, cols)
        batch = torch.arange(n)[:, None, None]
        return images[batch, rows[:, :, None], cols[:, None, :]].reshape(n, -1)
