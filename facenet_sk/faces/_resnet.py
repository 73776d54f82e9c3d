"""dlib's face recognition ResNet as a PyTorch module, with dlib's weights.

The architecture is the ``anet_type`` of dlib's
``examples/dnn_face_recognition_ex.cpp``: a 7x7 convolution, 3x3 max
pooling, fourteen residual blocks of two 3x3 convolutions (32 to 256
channels; four of them halve the image and widen the channels), an average
over the image and a 128 x 256 matrix without bias. Each convolution is
followed by dlib's ``affine`` layer, a batch normalization frozen into a
per-channel scale and shift, folded here into the convolution's weights.

Two of dlib's rules that are not PyTorch's defaults are kept:

* convolutions and pooling with a stride of 2 are not padded (3x3 ones with
  a stride of 1 are padded by 1);
* ``add_prev`` adds tensors of different shapes: the sum takes the larger
  size of each dimension, the smaller tensor placed at the top left and
  zero elsewhere. A downsampling block's shortcut (average pooled, with
  fewer channels, sometimes one pixel larger) is padded so.
"""

import torch
import torch.nn.functional as F
from torch import nn

from ._dlib_format import read_resnet

#: (in channels, out channels, halves the image) of each residual block.
BLOCKS = (
    [(32, 32, False)] * 3
    + [(32, 64, True)]
    + [(64, 64, False)] * 3
    + [(64, 128, True)]
    + [(128, 128, False)] * 2
    + [(128, 256, True)]
    + [(256, 256, False)] * 2
    + [(256, 256, True)]
)


def _add_prev(a, b):
    """dlib's add_prev: a + b, each zero-padded at the end to the larger shape."""
    if a.shape == b.shape:
        return a + b
    shape = [max(x, y) for x, y in zip(a.shape, b.shape)]

    def grow(t):
        # F.pad's pairs run from the last dimension backwards.
        return F.pad(
            t, (0, shape[3] - t.shape[3], 0, shape[2] - t.shape[2], 0, shape[1] - t.shape[1])
        )

    return grow(a) + grow(b)


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions and a shortcut; ReLU after the sum.

    A downsampling block starts with a stride-2 convolution and averages the
    shortcut over 2x2 squares.
    """

    def __init__(self, n_in, n_out, down):
        super().__init__()
        self.down = down
        self.conv1 = nn.Conv2d(n_in, n_out, 3, stride=2 if down else 1, padding=0 if down else 1)
        self.conv2 = nn.Conv2d(n_out, n_out, 3, padding=1)

    def forward(self, x):
        y = self.conv2(F.relu(self.conv1(x)))
        shortcut = F.avg_pool2d(x, 2) if self.down else x
        return F.relu(_add_prev(y, shortcut))


class FaceResNet(nn.Module):
    """dlib's face ResNet: 150x150 RGB images to 128-d embeddings.

    The input is a float tensor of raw 0..255 RGB values, shape
    ``(n, 3, 150, 150)``; the network subtracts dlib's mean colour and
    divides by 256 itself, as dlib's input layer does.

    Examples
    --------
    >>> import torch
    >>> net = FaceResNet().eval()
    >>> with torch.inference_mode():
    ...     net(torch.zeros(2, 3, 150, 150)).shape
    torch.Size([2, 128])
    """

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.zeros(1, 3, 1, 1))
        self.stem = nn.Conv2d(3, 32, 7, stride=2)
        self.blocks = nn.Sequential(*(ResidualBlock(*spec) for spec in BLOCKS))
        self.fc = nn.Linear(256, 128, bias=False)

    def forward(self, x):
        x = (x - self.mean) / 256
        x = F.max_pool2d(F.relu(self.stem(x)), 3, stride=2)
        x = self.blocks(x)
        return self.fc(x.mean(dim=(2, 3)))

    def convolutions(self):
        """The 29 convolutions in the order of dlib's layers."""
        yield self.stem
        for block in self.blocks:
            yield block.conv1
            yield block.conv2


def state_dict_from_dlib(data):
    """The weights of :class:`FaceResNet` from the bytes of dlib's model file.

    Each convolution's bias and the ``affine`` layer after it are folded:
    ``scale * (w * x + b) + shift = (scale * w) * x + (scale * b + shift)``.

    Parameters
    ----------
    data : bytes-like
        The bytes of ``dlib_face_recognition_resnet_model_v1.dat``.

    Returns
    -------
    dict of str to torch.Tensor
    """
    parsed = read_resnet(data)
    convs = [params for kind, params in parsed.layers if kind == "con"]
    affines = [params for kind, params in parsed.layers if kind == "affine"]
    (fc,) = [params for kind, params in parsed.layers if kind == "fc_no_bias"]
    net = FaceResNet()
    names = {module: name for name, module in net.named_modules()}
    state = {"mean": torch.from_numpy(parsed.input_mean.reshape(1, 3, 1, 1).copy())}
    for conv, params, affine in zip(net.convolutions(), convs, affines, strict=True):
        if (
            tuple(params["weight"].shape) != tuple(conv.weight.shape)
            or params["stride"] != conv.stride
            or params["padding"] != conv.padding
        ):
            raise ValueError(
                f"dlib's layer {params['weight'].shape} does not fit "
                f"{names[conv]} {tuple(conv.weight.shape)}"
            )
        scale = affine["scale"].astype("float64")
        weight = params["weight"].astype("float64") * scale[:, None, None, None]
        bias = params["bias"].astype("float64") * scale + affine["shift"]
        state[f"{names[conv]}.weight"] = torch.from_numpy(weight).float()
        state[f"{names[conv]}.bias"] = torch.from_numpy(bias).float()
    state["fc.weight"] = torch.from_numpy(fc["weight"].copy())
    return state
