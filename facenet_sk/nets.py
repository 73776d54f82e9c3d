"""The exercise's networks as PyTorch modules.

Both families take flat float32 input of shape (n, height * width * 3), the
row-major (H, W, C) flattening the loaders return, so that one batch format
serves every network and a ``StandardScaler`` in front of them sees plain
features. Layers are named the way Keras names them, so that
:func:`facenet_sk.summary` reads like the course's model summaries.
"""

import math
from collections import OrderedDict

import numpy as np
import torch
from torch import nn
from torch.nn.utils import skip_init

from ._dropout import Dropout

# Keras's BatchNormalization defaults: momentum 0.99 keeps 99 % of the running
# statistics per step, which is PyTorch's momentum=0.01.
BN_MOMENTUM = 0.01
BN_EPS = 1e-3
# Keras's he_normal draws from a normal truncated at 2 standard deviations and
# rescales by this factor so that the truncated draw keeps std sqrt(2 / fan_in).
_TRUNCATED_STD_FACTOR = 0.87962566103423978


def he_normal_(module):
    """Initialise a Linear or Conv2d layer like Keras's ``he_normal``, zero bias.

    Examples
    --------
    >>> from torch import nn
    >>> layer = he_normal_(nn.Linear(6912, 8))
    >>> float(layer.bias.abs().sum())
    0.0
    >>> bool(layer.weight.abs().max() <= 2 * (2 / 6912) ** 0.5 / _TRUNCATED_STD_FACTOR)
    True
    """
    fan_in = module.weight[0].numel()
    std = math.sqrt(2.0 / fan_in) / _TRUNCATED_STD_FACTOR
    # Inverse transform sampling: uniform draws between the normal's 2.3rd
    # and 97.7th percentiles, through its quantile function (erfinv), fall
    # within 2 standard deviations by construction. A fixed four passes,
    # where nn.init.trunc_normal_ redraws until every value is inside: about
    # 8x slower on the 6912x400 layer, a cost every fit pays.
    bound = math.erf(2 / math.sqrt(2))
    with torch.no_grad():
        module.weight.uniform_(-bound, bound).erfinv_().mul_(std * math.sqrt(2))
        module.weight.clamp_(-2 * std, 2 * std)  # erfinv's float rounding at the edges
    if module.bias is not None:
        nn.init.zeros_(module.bias)
    return module


def torch_default_(module):
    """Initialise a layer as PyTorch does by default (its ``reset_parameters``).

    Weights and bias uniform within +-1/sqrt(fan_in): weights of one sixth
    of :func:`he_normal_`'s variance.

    Examples
    --------
    >>> from torch import nn
    >>> layer = torch_default_(nn.Linear(100, 8))
    >>> bool(layer.weight.abs().max() <= 0.1)
    True
    """
    module.reset_parameters()
    return module


#: The initialisations of ``weight_init``, by name.
WEIGHT_INITS = {"he_normal": he_normal_, "torch": torch_default_}


def _dense(in_features, out_features, weight_init="he_normal"):
    """A Linear layer initialised by ``weight_init`` (no default one drawn first)."""
    return WEIGHT_INITS[weight_init](skip_init(nn.Linear, in_features, out_features))


def _conv(in_channels, out_channels, weight_init="he_normal"):
    """A 3x3 'same' convolution initialised by ``weight_init``."""
    layer = skip_init(nn.Conv2d, in_channels, out_channels, 3, padding="same")
    return WEIGHT_INITS[weight_init](layer)


class _Layers:
    """Collects layers under Keras-style names: dense_1, activation_2, ..."""

    def __init__(self):
        self.layers = OrderedDict()
        self._counts = {}

    def add(self, kind, layer):
        self._counts[kind] = self._counts.get(kind, 0) + 1
        self.layers[f"{kind}_{self._counts[kind]}"] = layer


class Standardize(nn.Module):
    """``(x - mean) / scale`` per channel of flat rows whose values cycle through the channels.

    A layer without parameters: its statistics are buffers, so they travel
    with the weights (``state_dict``, ``save_params``, ``.to(device)``) and
    are not trained. The Keras-style summary does not list it, so the
    course's layer table and parameter counts stay as they were.

    Parameters
    ----------
    mean, scale : array-like of shape (n_channels,)
        The channels' mean and standard deviation (non-zero).

    Examples
    --------
    >>> import torch
    >>> layer = Standardize([10.0, 20.0], [2.0, 4.0])
    >>> layer(torch.tensor([[12.0, 24.0, 10.0, 20.0]])).tolist()
    [[1.0, 1.0, 0.0, 0.0]]
    """

    def __init__(self, mean, scale):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(np.asarray(mean), dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(np.asarray(scale), dtype=torch.float32))

    def forward(self, x):
        # The statistics tiled to the row's width broadcast along whole rows,
        # much faster than over a last dimension of 3 channels.
        repeats = x.shape[1] // self.mean.numel()
        # The difference is a new tensor of this layer's own (no gradient flows
        # into the input or the statistics), so the division may overwrite it.
        return (x - self.mean.repeat(repeats)).div_(self.scale.repeat(repeats))

    def extra_repr(self):
        return f"n_channels={self.mean.numel()}"


def _input_layers(input_stats):
    """The first layers of a network: its input standardization, when given statistics."""
    built = _Layers()
    if input_stats is not None:
        built.layers["standardize"] = Standardize(*input_stats)
    return built


class ImageFromFlat(nn.Module):
    """Reshape flat (n, H*W*C) rows into NCHW images stored channels-last.

    The permute is free (a view), and its strides are exactly PyTorch's
    ``channels_last`` layout, the fast layout for convolutions on CPU.
    """

    def __init__(self, image_shape):
        super().__init__()
        self.image_shape = tuple(image_shape)

    def forward(self, x):
        return x.reshape(-1, *self.image_shape).permute(0, 3, 1, 2)

    def extra_repr(self):
        return f"image_shape={self.image_shape}"


class FlattenHWC(nn.Module):
    """Flatten NCHW feature maps in (H, W, C) order, as Keras's Flatten does."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1).flatten(1)


class FCNet(nn.Sequential):
    """Fully connected network: no hidden layer is the softmax model ``only_fc``.

    Parameters
    ----------
    n_features : int
        Input size (6912 for 48x48 RGB images).
    n_classes : int
        Number of output logits.
    hidden_layer_sizes : tuple of int, default=(400, 200)
        Units of the hidden layers, each followed by ReLU.
    dropout : float, default=0.0
        Dropout rate after every hidden activation (0 adds no layer).
    batchnorm : bool, default=False
        Batch normalization after every hidden dense layer, before the ReLU.
    batchnorm_momentum : float, default=0.01
        PyTorch momentum of the batch normalization's running statistics
        (Keras's momentum 0.99 is 0.01 here).
    input_stats : tuple of (mean, scale), default=None
        Per-channel statistics of a :class:`Standardize` first layer; None
        for none.
    weight_init : {"he_normal", "torch"}, default="he_normal"
        Initialisation of the dense and convolution layers: the course's
        (Keras's ``he_normal``, zero bias) or PyTorch's default.

    Examples
    --------
    >>> net = FCNet(6912, 8, hidden_layer_sizes=(400, 200))
    >>> sum(p.numel() for p in net.parameters())
    2847008
    """

    def __init__(
        self,
        n_features,
        n_classes,
        hidden_layer_sizes=(400, 200),
        dropout=0.0,
        batchnorm=False,
        batchnorm_momentum=BN_MOMENTUM,
        input_stats=None,
        weight_init="he_normal",
    ):
        built = _input_layers(input_stats)
        width = n_features
        for units in hidden_layer_sizes:
            built.add("dense", _dense(width, units, weight_init))
            if batchnorm:
                built.add(
                    "batch_normalization",
                    nn.BatchNorm1d(units, eps=BN_EPS, momentum=batchnorm_momentum),
                )
            built.add("activation", nn.ReLU(inplace=True))
            if dropout:
                built.add("dropout", Dropout(dropout))
            width = units
        built.add("dense", _dense(width, n_classes, weight_init))
        super().__init__(built.layers)
        self.input_shape = (n_features,)


class CNN(nn.Sequential):
    """The exercise's CNN: conv-conv-pool, conv-conv-pool, dense, dense.

    Convolutions are 3x3 with 'same' padding and ReLU; pooling is 2x2 max.

    Parameters
    ----------
    image_shape : tuple of int
        (height, width, channels) of the input images.
    n_classes : int
        Number of output logits.
    conv_filters : tuple of int, default=(32, 64)
        Filters of the two convolution blocks (two convolutions each).
    dense_units : int, default=200
        Units of the hidden dense layer.
    dropout : float, default=0.0
        Dropout rate after each pooling and after the hidden dense layer.
    batchnorm : bool, default=False
        Batch normalization after every convolution and the hidden dense
        layer, before the ReLU.
    batchnorm_momentum : float, default=0.01
        PyTorch momentum of the batch normalization's running statistics.
    input_stats : tuple of (mean, scale), default=None
        Per-channel statistics of a :class:`Standardize` first layer; None
        for none.
    weight_init : {"he_normal", "torch"}, default="he_normal"
        Initialisation of the dense and convolution layers: the course's
        (Keras's ``he_normal``, zero bias) or PyTorch's default.

    Examples
    --------
    >>> net = CNN((48, 48, 3), 8)
    >>> sum(p.numel() for p in net.parameters())
    1910576
    """

    def __init__(
        self,
        image_shape,
        n_classes,
        conv_filters=(32, 64),
        dense_units=200,
        dropout=0.0,
        batchnorm=False,
        batchnorm_momentum=BN_MOMENTUM,
        input_stats=None,
        weight_init="he_normal",
    ):
        height, width, channels = image_shape
        built = _input_layers(input_stats)
        built.add("reshape", ImageFromFlat(image_shape))
        for filters in conv_filters:
            for _ in range(2):
                built.add("conv2d", _conv(channels, filters, weight_init))
                if batchnorm:
                    built.add(
                        "batch_normalization",
                        nn.BatchNorm2d(filters, eps=BN_EPS, momentum=batchnorm_momentum),
                    )
                built.add("activation", nn.ReLU(inplace=True))
                channels = filters
            built.add("max_pooling2d", nn.MaxPool2d(2))
            if dropout:
                built.add("dropout", Dropout(dropout))
            height, width = height // 2, width // 2
        if height < 1 or width < 1:
            raise ValueError(
                f"image_shape {tuple(image_shape)} is too small for {len(conv_filters)} "
                "2x2 poolings"
            )
        built.add("flatten", FlattenHWC())
        built.add("dense", _dense(height * width * channels, dense_units, weight_init))
        if batchnorm:
            built.add(
                "batch_normalization",
                nn.BatchNorm1d(dense_units, eps=BN_EPS, momentum=batchnorm_momentum),
            )
        built.add("activation", nn.ReLU(inplace=True))
        if dropout:
            built.add("dropout", Dropout(dropout))
        built.add("dense", _dense(dense_units, n_classes, weight_init))
        super().__init__(built.layers)
        self.input_shape = (math.prod(image_shape),)
        self.image_shape = tuple(image_shape)
        # Weights in channels_last match the layout of ImageFromFlat's output,
        # so no convolution has to reorder its input.
        self.to(memory_format=torch.channels_last)
