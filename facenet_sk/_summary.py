"""A Keras-style model summary for the networks."""

import torch
from sklearn.pipeline import Pipeline
from torch import nn

from .nets import Standardize

_WIDTHS = (38, 24, 12)


def _keras_shape(tensor):
    """(None, H, W, C) for image tensors (which PyTorch holds as NCHW)."""
    shape = tuple(tensor.shape[1:])
    if tensor.dim() == 4:
        shape = shape[1:] + shape[:1]
    return "(None, " + ", ".join(str(s) for s in shape) + ")"


def _counts(layer):
    """Trainable and non-trainable values of one layer, counted like Keras."""
    trainable = sum(p.numel() for p in layer.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in layer.parameters() if not p.requires_grad)
    # BatchNorm's running mean and variance are Keras's non-trainable weights;
    # PyTorch's num_batches_tracked counter has no Keras counterpart.
    frozen += sum(
        b.numel() for name, b in layer.named_buffers() if not name.endswith("num_batches_tracked")
    )
    return trainable, frozen


def _resolve(model):
    """The torch module behind ``model`` (estimator, Pipeline or module)."""
    if isinstance(model, Pipeline):
        model = model[-1]
    if isinstance(model, nn.Module):
        return model
    if hasattr(model, "module_for_summary"):
        return model.module_for_summary()
    raise TypeError(
        f"summary() takes a facenet_sk classifier, a Pipeline ending in one, or a torch "
        f"module; got {type(model).__name__}"
    )


def summary(model):
    """Return a Keras-style table of a network's layers and parameter counts.

    Parameters
    ----------
    model : facenet_sk classifier, Pipeline or torch.nn.Module
        A fitted classifier shows the trained network; an unfitted one shows
        the architecture its parameters describe, with the exercise's input
        (48x48x3, 8 classes) unless ``image_shape`` says otherwise. A module
        needs an ``input_shape`` attribute (the facenet_sk networks have one).

    Returns
    -------
    str
        The table, ending with the ``Total params``, ``Trainable params`` and
        ``Non-trainable params`` lines.

    Examples
    --------
    >>> from facenet_sk import make_model, summary
    >>> print(summary(make_model("only_fc")).splitlines()[-3])
    Total params: 55,304
    """
    module = _resolve(model)
    input_shape = getattr(module, "input_shape", None)
    if input_shape is None:
        raise ValueError(f"{type(module).__name__} has no input_shape attribute to run it on")
    # The input standardization is the input's preprocessing, not one of the
    # course's layers: left out, as Keras's table leaves out its Input.
    layers = (
        [
            (name, layer)
            for name, layer in module.named_children()
            if not isinstance(layer, Standardize)
        ]
        if isinstance(module, nn.Sequential)
        else [(type(module).__name__.lower(), module)]
    )
    shapes = {}
    hooks = [
        layer.register_forward_hook(
            lambda mod, inp, out, name=name: shapes.__setitem__(name, _keras_shape(out))
        )
        for name, layer in layers
    ]
    was_training = module.training
    param = next(module.parameters(), None)
    try:
        module.eval()
        with torch.no_grad():
            module(
                torch.zeros((2, *input_shape), device=param.device if param is not None else "cpu")
            )
    finally:
        module.train(was_training)
        for hook in hooks:
            hook.remove()

    line = "_" * sum(_WIDTHS)
    rows = [line, _row("Layer (type)", "Output Shape", "Param #"), "=" * sum(_WIDTHS)]
    total_trainable = total_frozen = 0
    for name, layer in layers:
        trainable, frozen = _counts(layer)
        total_trainable += trainable
        total_frozen += frozen
        rows.append(
            _row(f"{name} ({type(layer).__name__})", shapes[name], f"{trainable + frozen:,}")
        )
    rows += [
        "=" * sum(_WIDTHS),
        f"Total params: {total_trainable + total_frozen:,}",
        f"Trainable params: {total_trainable:,}",
        f"Non-trainable params: {total_frozen:,}",
    ]
    return "\n".join(rows)


def _row(*cells):
    return "".join(f"{c:<{w}}" for c, w in zip(cells, _WIDTHS)).rstrip()
