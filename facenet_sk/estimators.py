"""The exercise's two network families as scikit-learn classifiers.

Every hyper-parameter is declared here, once: one :class:`~facenet_sk._params.Param`
gives its default, its allowed values and its documentation, and from it the
classifiers get their signature, ``_parameter_constraints`` and docstring.
Adding a hyper-parameter to both families is one entry in
:data:`SHARED_PARAMS` (and the code that acts on it reads ``self.<name>``).
"""

import math
from numbers import Real

from sklearn.utils._param_validation import Interval, StrOptions

from ._base import BaseNetClassifier
from ._params import OPTIMIZERS, CudaDevice, Ints, OptimizerClass, Param, PositiveInts
from ._precision import PRECISIONS
from .nets import CNN, WEIGHT_INITS, FCNet

#: The hyper-parameters both families share, in signature order.
SHARED_PARAMS = (
    Param(
        "dropout",
        0.0,
        [Interval(Real, 0, 1, closed="left")],
        "float",
        "Dropout rate (where the dropout layers sit: see above); 0 adds none.",
    ),
    Param(
        "batchnorm",
        False,
        ["boolean"],
        "bool",
        "Batch normalization after every hidden dense layer and convolution, before the "
        "ReLU (Keras's epsilon 0.001).",
    ),
    Param(
        "batchnorm_momentum",
        0.01,
        [Interval(Real, 0, 1, closed="right")],
        "float",
        "How fast the batch normalization's running statistics follow the batches "
        "(PyTorch's convention; the course's Keras momentum 0.99 is 0.01). On small data "
        "sets, 0.1 lets them settle within fewer steps.",
    ),
    Param(
        "weight_init",
        "he_normal",
        [StrOptions(set(WEIGHT_INITS))],
        '{"he_normal", "torch"}',
        'Initialisation of the dense and convolution layers. "he_normal": the course\'s '
        '(Keras\'s truncated normal of variance 2 / fan_in, zero bias). "torch": '
        "PyTorch's default (weights and bias uniform within 1 / sqrt(fan_in)), which "
        "trained ``cnn_dropout`` to a higher accuracy in 30 epochs on the synthetic "
        "faces (see the user guide).",
    ),
    Param(
        "lr",
        0.001,
        [Interval(Real, 0, math.inf, closed="neither")],
        "float",
        "Learning rate (Keras's Adam default).",
    ),
    Param("max_epochs", 30, [Ints(1)], "int", "Training epochs (the exercise's 30)."),
    Param(
        "batch_size",
        128,
        [Ints(1)],
        "int",
        "Mini-batch size (the exercise's 128); prediction runs this many rows at a time too.",
    ),
    Param(
        "optimizer",
        "adam",
        [StrOptions(set(OPTIMIZERS)), OptimizerClass()],
        '{"adam", "adamw", "sgd", "rmsprop"} or torch.optim.Optimizer class',
        "The optimizer. Adam and AdamW use PyTorch's fused kernel where it has one "
        '(CPU and CUDA); ``optimizer_params={"fused": False}`` (or ``"foreach"``) '
        "chooses another of PyTorch's implementations.",
    ),
    Param(
        "optimizer_params",
        None,
        [dict, None],
        "dict",
        'More arguments of the optimizer, e.g. ``{"momentum": 0.9, "nesterov": True}`` for '
        'SGD or ``{"betas": (0.9, 0.99)}`` for Adam: skorch\'s ``optimizer__*``. '
        "``set_params(optimizer__momentum=0.9)`` and search grids may name them that way "
        "too.",
    ),
    Param(
        "criterion_params",
        None,
        [dict, None],
        "dict",
        "More arguments of the loss (:class:`torch.nn.CrossEntropyLoss`), e.g. "
        '``{"label_smoothing": 0.1}``: skorch\'s ``criterion__*``, settable as '
        "``criterion__label_smoothing`` too.",
    ),
    Param(
        "weight_decay",
        0.0,
        [Interval(Real, 0, math.inf, closed="left")],
        "float",
        "L2 penalty passed to the optimizer.",
    ),
    Param(
        "early_stopping",
        False,
        ["boolean"],
        "bool",
        "Stop when the validation loss has not improved for ``n_iter_no_change`` epochs "
        "and restore the best epoch's weights. The validation set is ``X_valid`` passed "
        "to ``fit`` or else a stratified ``validation_fraction`` of X.",
    ),
    Param(
        "validation_fraction",
        0.1,
        [Interval(Real, 0, 1, closed="neither")],
        "float",
        "Part of X held out for early stopping when no ``X_valid`` is given.",
    ),
    Param("n_iter_no_change", 5, [Ints(1)], "int", "Patience of early stopping, in epochs."),
    Param(
        "augment",
        False,
        ["boolean"],
        "bool",
        "Random horizontal flips and shifts of up to 4 pixels on every training batch "
        "(needs image input). Off for the course's models. The network's own "
        '``input_scaling="channel"`` standardizes after the augmentation; behind a '
        "per-pixel scaler (a ``StandardScaler`` in a Pipeline) the flips and shifts move "
        "standardized values, not faces, and ``fit`` warns.",
    ),
    Param(
        "input_scaling",
        "channel",
        [StrOptions({"channel"}), None],
        '{"channel"} or None',
        '"channel": the network standardizes its input with one mean and one standard '
        "deviation per colour channel, learned from X in ``fit`` (one for all features of "
        "non-image input) and kept in its first layer, so raw 0..255 pixels train as well "
        "as scaled ones and augmentation moves pixels before the scaling. None: the input "
        "goes in as given (the course's recipe, behind its per-pixel ``StandardScaler``).",
    ),
    Param(
        "class_weight",
        None,
        [StrOptions({"balanced"}), dict, None],
        'None, "balanced" or dict',
        "Weights of the classes in the loss, as in scikit-learn's classifiers.",
    ),
    Param(
        "image_shape",
        None,
        [PositiveInts(length=3), None],
        "tuple of int",
        "(height, width, channels) of flat input; inferred from image input or from a "
        "square RGB width (6912 -> (48, 48, 3)) when None.",
    ),
    Param(
        "warm_start",
        False,
        ["boolean"],
        "bool",
        "When fitted already, ``fit`` continues training the same network (its weights, "
        "optimizer state and input statistics) for ``max_epochs`` more epochs; "
        "``history_`` grows.",
    ),
    Param(
        "random_state",
        None,
        ["random_state"],
        "int, RandomState instance or None",
        "Seeds weight initialisation, shuffling, dropout and augmentation: the same seed "
        "and data give identical predictions on CPU.",
    ),
    Param(
        "device",
        "cpu",
        [StrOptions({"cpu", "mps", "auto"}), CudaDevice()],
        '{"cpu", "cuda", "cuda:N", "mps", "auto"}',
        'Where to train; "auto" picks CUDA when available.',
    ),
    Param(
        "precision",
        "auto",
        [StrOptions(set(PRECISIONS))],
        '{"auto", "float32", "bfloat16"}',
        '"bfloat16": train and predict in mixed precision (matrix products and convolutions '
        "in bfloat16 under torch.autocast; weights, loss and optimizer in float32). "
        '"auto": bfloat16 where the device computes it in hardware (a CUDA device that '
        "supports it, a CPU with AMX or AVX512-BF16 instructions), float32 elsewhere; "
        "the accuracies are those of float32 within their seed-to-seed spread. "
        '"float32": float32 throughout, the same arithmetic on every machine.',
    ),
    Param(
        "n_threads",
        None,
        [Ints(1), None],
        "int",
        "Torch threads while fitting and predicting. None leaves torch's setting, except "
        "in a task on a Dask worker: there each task takes one thread (a worker runs as "
        "many tasks at once as it has threads); set it to give a task more.",
    ),
    Param(
        "verbose",
        0,
        [Ints(0)],
        "int",
        "0 silent, 1 a line per epoch, 2 also a progress bar per epoch.",
    ),
    Param(
        "callbacks",
        None,
        [list, tuple, None],
        "list of skorch callbacks",
        "Extra skorch callbacks (e.g. ``skorch.callbacks.TensorBoard``), or (name, "
        "callback) tuples.",
    ),
)


def _layer_options(estimator, input_stats):
    """The network arguments both families take from their shared parameters."""
    return dict(
        dropout=float(estimator.dropout),
        batchnorm=bool(estimator.batchnorm),
        batchnorm_momentum=float(estimator.batchnorm_momentum),
        input_stats=input_stats,
        weight_init=estimator.weight_init,
    )


_ATTRIBUTES_DOC = """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The labels seen in ``fit``.
    n_features_in_ : int
        Number of (flattened) input features.
    image_shape_ : tuple of int or None
        Image shape the network was built for.
    input_mean_, input_scale_ : ndarray of shape (n_channels,)
        The channels' mean and standard deviation in the training data (the
        network's input statistics with ``input_scaling="channel"``).
    net_ : skorch.NeuralNetClassifier
        The trained skorch net (its ``module_`` is the PyTorch network, left
        in evaluation mode after ``fit``).
    history_ : skorch.History
        Per-epoch ``train_loss``, ``train_acc``, ``valid_loss``, ``valid_acc``
        (with a validation set) and ``dur`` (seconds).
    n_epochs_ : int
        Epochs actually trained (fewer after early stopping or Ctrl-C).
    interrupted_ : bool
        Whether Ctrl-C ended training early (the weights reached are kept).
"""


class FCNetClassifier(BaseNetClassifier):
    """Fully connected network classifier (the exercise's part 1).

    ``hidden_layer_sizes=()`` is the softmax model ``only_fc``;
    ``(400, 200)`` is ``fc_with_hidden``. Dropout follows every hidden
    layer's ReLU; batch normalization sits between each hidden dense layer
    and its ReLU.

    Parameters
    ----------
    %(parameters)s
    %(attributes)s
    Examples
    --------
    >>> from facenet_sk import FCNetClassifier
    >>> from facenet_sk.datasets import make_synthetic_faces
    >>> X, y = make_synthetic_faces(n_per_person=20, return_X_y=True)
    >>> clf = FCNetClassifier(max_epochs=2, random_state=0).fit(X, y)
    >>> clf.predict(X[:3]).shape
    (3,)
    """

    _params = (
        Param(
            "hidden_layer_sizes",
            (400, 200),
            [PositiveInts()],
            "tuple of int",
            "Units of the hidden ReLU layers.",
            positional=True,
        ),
        *SHARED_PARAMS,
    )

    def _module(self, n_features, n_classes, image_shape, input_stats=None):
        return FCNet(
            n_features,
            n_classes,
            tuple(int(s) for s in self.hidden_layer_sizes),
            **_layer_options(self, input_stats),
        )


class CNNClassifier(BaseNetClassifier):
    """Convolutional network classifier (the exercise's part 2).

    conv 32-32 / pool / conv 64-64 / pool / dense 200 / dense n_classes,
    3x3 'same' convolutions, ReLU, 2x2 max-pooling. Dropout follows each
    pooling and the hidden dense layer: ``dropout=0.3`` is ``cnn_dropout``;
    adding ``batchnorm=True`` (after every convolution and the hidden dense
    layer, before the ReLU) is ``cnn_dropout_batchnorm``.

    Parameters
    ----------
    %(parameters)s
    %(attributes)s
    Examples
    --------
    >>> from facenet_sk import CNNClassifier
    >>> from facenet_sk.datasets import make_synthetic_faces
    >>> faces = make_synthetic_faces(n_per_person=20)
    >>> clf = CNNClassifier(max_epochs=1, random_state=0).fit(faces.images, faces.target)
    >>> clf.image_shape_
    (48, 48, 3)
    """

    _needs_image_shape = True
    _params = (
        Param(
            "conv_filters",
            (32, 64),
            [PositiveInts(allow_empty=False)],
            "tuple of int",
            "Filters of the convolution blocks (two convolutions each).",
            positional=True,
        ),
        Param(
            "dense_units",
            200,
            [Ints(1)],
            "int",
            "Units of the hidden dense layer.",
            positional=True,
        ),
        *SHARED_PARAMS,
    )

    def _module(self, n_features, n_classes, image_shape, input_stats=None):
        return CNN(
            image_shape,
            n_classes,
            tuple(int(f) for f in self.conv_filters),
            int(self.dense_units),
            **_layer_options(self, input_stats),
        )


for _cls in (FCNetClassifier, CNNClassifier):
    _cls.__doc__ = _cls.__doc__.replace(
        "%(parameters)s", "\n".join(p.docstring() for p in _cls._params).strip()
    ).replace("%(attributes)s", _ATTRIBUTES_DOC.strip())
del _cls
