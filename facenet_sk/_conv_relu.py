"""A convolution and the ReLU after it in one pass over the output, on the CPU.

PyTorch runs ``relu(conv2d(x))`` as two operators: the convolution writes
its output, then the ReLU reads it all again and writes a second tensor. On
the course's ``cnn`` the first ReLU alone (128 x 32 x 48 x 48 values a
batch) took as long as the first convolution. oneDNN, which runs PyTorch's
CPU convolutions, can apply the ReLU as each output value is written (a
"post-op"); PyTorch exposes that as ``torch.ops.mkldnn._convolution_pointwise``
(the operator its compiler emits), without a gradient. :func:`conv2d_relu`
wraps it in an autograd function whose backward is exactly autograd's own
for the two layers (ReLU's ``threshold_backward``, then the convolution's
``convolution_backward``), so outputs and gradients are bit for bit those
of the two layers. Where the fused operator does not apply (another
device, dtype or padding mode, CPU autocast, a torch without it), the ReLU
runs in place on the convolution's output instead, which the convolution's
gradient does not need.
"""

import torch

_fused_available = hasattr(torch.ops.mkldnn, "_convolution_pointwise")


def _explicit_padding(layer):
    """Per-side padding of ``layer`` as a list of ints, or None if it is not symmetric."""
    if layer.padding_mode != "zeros":
        return None
    if isinstance(layer.padding, str):
        if layer.padding == "valid":
            return [0] * len(layer.kernel_size)
        # "same": symmetric only when every dilated kernel extent is odd.
        extents = [d * (k - 1) for d, k in zip(layer.dilation, layer.kernel_size)]
        if any(extent % 2 for extent in extents):
            return None
        return [extent // 2 for extent in extents]
    return list(layer.padding)


def _can_fuse(layer, x):
    return (_fused_available and x.device.type == "cpu" and x.dtype == torch.float32
            and layer.weight.dtype == torch.float32 and torch.backends.mkldnn.is_available()
            and torch.backends.mkldnn.enabled and not _autocast_on())


def _autocast_on():
    """Whether CPU autocast is on: it casts a convolution's input, not the fused operator's."""
    try:
        return torch.is_autocast_enabled("cpu")
    except TypeError:  # torch < 2.4
        return torch.is_autocast_cpu_enabled()


class _Conv2dReLU(torch.autograd.Function):
    """relu(conv2d(x)) in one oneDNN call; the backward of the two layers, unchanged."""

    @staticmethod
    def forward(ctx, x, weight, bias, padding, stride, dilation, groups):
        out = torch.ops.mkldnn._convolution_pointwise(
            x, weight, bias, padding, stride, dilation, groups, "relu", [], "")
        ctx.save_for_backward(x, weight, out)
        ctx.conv_args = (None if bias is None else [bias.shape[0]], stride, padding, dilation,
                         groups)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        x, weight, out = ctx.saved_tensors
        bias_sizes, stride, padding, dilation, groups = ctx.conv_args
        # What autograd runs for ReLU then Conv2d, in that order.
        grad = torch.ops.aten.threshold_backward(grad_out, out, 0)
        mask = [ctx.needs_input_grad[0], ctx.needs_input_grad[1],
                bias_sizes is not None and ctx.needs_input_grad[2]]
        grad_x, grad_w, grad_b = torch.ops.aten.convolution_backward(
            grad, x, weight, bias_sizes, stride, padding, dilation, False, [0] * len(stride),
            groups, mask)
        return grad_x, grad_w, grad_b, None, None, None, None


def conv2d_relu(layer, x):
    """``relu(layer(x))`` for an ``nn.Conv2d`` ``layer``, in one pass where possible.

    Parameters
    ----------
    layer : torch.nn.Conv2d
    x : torch.Tensor of shape (n, channels, height, width)

    Returns
    -------
    torch.Tensor
        Equal, with its gradients, to ``torch.relu(layer(x))``.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> layer = nn.Conv2d(3, 4, 3, padding="same")
    >>> x = torch.randn(2, 3, 8, 8)
    >>> torch.equal(conv2d_relu(layer, x), torch.relu(layer(x)))
    True
    """
    padding = _explicit_padding(layer)
    if padding is not None and _can_fuse(layer, x):
        try:
            return _Conv2dReLU.apply(x, layer.weight, layer.bias, padding, list(layer.stride),
                                     list(layer.dilation), layer.groups)
        except RuntimeError:
            # Bad input fails the two-step path below too, with PyTorch's own message;
            # if that path works, the operator itself failed (another torch's
            # arguments): take the two-step path from now on.
            out = _two_steps(layer, x)
            _disable_fused()
            return out
    return _two_steps(layer, x)


def _two_steps(layer, x):
    # The convolution's gradient needs its input and weight, not its output.
    return torch.relu_(layer(x))


def _disable_fused():
    global _fused_available
    _fused_available = False
