"""The exercise's two network families as scikit-learn classifiers."""

from ._base import BaseNetClassifier
from ._params import Ints, PositiveInts
from .nets import CNN, FCNet

_SHARED_PARAMS_DOC = """
    lr : float, default=0.001
        Learning rate (Keras's Adam default).
    max_epochs : int, default=30
        Training epochs (the exercise's 30).
    batch_size : int, default=128
        Mini-batch size (the exercise's 128). Prediction runs ``batch_size``
        rows at a time too, except in the fully connected networks: their
        activations take a few KB a row, so they predict at least 2,048
        rows at a time, which is faster and gives the same probabilities.
        Given enough rows, they fold the input standardization into the
        first layer's weights instead of standardizing every row, recomputed
        on each call into memory kept beside the fitted network (11 MB for
        ``fc_with_hidden``).
    optimizer : {"adam", "adamw", "sgd", "rmsprop"} or torch.optim.Optimizer class, default="adam"
        The optimizer.
    optimizer_params : dict, default=None
        More arguments of the optimizer, e.g. ``{"momentum": 0.9,
        "nesterov": True}`` for SGD or ``{"betas": (0.9, 0.99)}`` for Adam:
        skorch's ``optimizer__*``. ``set_params(optimizer__momentum=0.9)``
        and search grids may name them that way too.
    criterion_params : dict, default=None
        More arguments of the loss (:class:`torch.nn.CrossEntropyLoss`), e.g.
        ``{"label_smoothing": 0.1}``: skorch's ``criterion__*``, settable as
        ``criterion__label_smoothing`` too.
    weight_decay : float, default=0.0
        L2 penalty passed to the optimizer.
    early_stopping : bool, default=False
        Stop when the validation loss has not improved for
        ``n_iter_no_change`` epochs and restore the best epoch's weights.
        The validation set is ``X_valid`` passed to ``fit`` or else a
        stratified ``validation_fraction`` of X.
    validation_fraction : float, default=0.1
        Part of X held out for early stopping when no ``X_valid`` is given.
    n_iter_no_change : int, default=5
        Patience of early stopping, in epochs.
    augment : bool, default=False
        Random horizontal flips and shifts of up to 4 pixels on every
        training batch (needs image input). Off for the course's models.
    input_scaling : {"channel"} or None, default="channel"
        "channel": the network standardizes its input with one mean and one
        standard deviation per colour channel, learned from X in ``fit``
        (one for all features of non-image input), so raw 0..255 pixels
        train as well as scaled ones and augmentation moves pixels before
        the scaling. None: the input goes in as given (the course's recipe,
        behind its per-pixel ``StandardScaler``).
    warm_start : bool, default=False
        When fitted already, ``fit`` continues training the same network
        (its weights, optimizer state and input statistics) for
        ``max_epochs`` more epochs; ``history_`` grows.
    class_weight : None, "balanced" or dict, default=None
        Weights of the classes in the loss, as in scikit-learn's classifiers.
    image_shape : tuple of int, default=None
        (height, width, channels) of flat input; inferred from image input
        or from a square RGB width (6912 -> (48, 48, 3)) when None.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and augmentation:
        the same seed and data give identical predictions on CPU.
    device : {"cpu", "cuda", "cuda:N", "mps", "auto"}, default="cpu"
        Where to train; "auto" picks CUDA when available.
    n_threads : int, default=None
        Torch threads while fitting and predicting. None leaves torch's
        setting, except in a task on a Dask worker: there the task takes its
        share of the worker's threads (one per task by default).
    verbose : int, default=0
        0 silent, 1 a line per epoch, 2 also a progress bar per epoch.
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra skorch callbacks (e.g. ``skorch.callbacks.TensorBoard``).

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
        The trained skorch net (its ``module_`` is the PyTorch network).
    history_ : skorch.History
        Per-epoch ``train_loss``, ``train_acc``, ``valid_loss``, ``valid_acc``
        (with a validation set) and ``dur`` (seconds).
    n_epochs_ : int
        Epochs actually trained (fewer after early stopping or Ctrl-C).
    interrupted_ : bool
        Whether Ctrl-C ended training early (the weights reached are kept).
"""


class FCNetClassifier(BaseNetClassifier):
    __doc__ = """Fully connected network classifier (the exercise's part 1).

    ``hidden_layer_sizes=()`` is the softmax model ``only_fc``;
    ``(400, 200)`` is ``fc_with_hidden``.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(400, 200)
        Units of the hidden ReLU layers.
    dropout : float, default=0.0
        Dropout rate after every hidden layer.
    batchnorm : bool, default=False
        Batch normalization after every hidden dense layer, before the ReLU.
    batchnorm_momentum : float, default=0.01
        How fast the batch normalization's running statistics follow the
        batches (PyTorch's convention; the course's Keras momentum 0.99 is 0.01).
        On small data sets, 0.1 lets them settle within fewer steps.
    """ + _SHARED_PARAMS_DOC + """
    Examples
    --------
    >>> from facenet_sk import FCNetClassifier
    >>> from facenet_sk.datasets import make_synthetic_faces
    >>> X, y = make_synthetic_faces(n_per_person=20, return_X_y=True)
    >>> clf = FCNetClassifier(max_epochs=2, random_state=0).fit(X, y)
    >>> clf.predict(X[:3]).shape
    (3,)
    """

    def __init__(self, hidden_layer_sizes=(400, 200), *, dropout=0.0, batchnorm=False,
                 batchnorm_momentum=0.01, lr=0.001, max_epochs=30, batch_size=128, optimizer="adam",
                 optimizer_params=None, criterion_params=None, weight_decay=0.0,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=5,
                 augment=False, input_scaling="channel", class_weight=None, image_shape=None,
                 warm_start=False, random_state=None, device="cpu", n_threads=None, verbose=0,
                 callbacks=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.batchnorm = batchnorm
        self.batchnorm_momentum = batchnorm_momentum
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.optimizer_params = optimizer_params
        self.criterion_params = criterion_params
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.augment = augment
        self.input_scaling = input_scaling
        self.class_weight = class_weight
        self.image_shape = image_shape
        self.warm_start = warm_start
        self.random_state = random_state
        self.device = device
        self.n_threads = n_threads
        self.verbose = verbose
        self.callbacks = callbacks

    _parameter_constraints = {
        **BaseNetClassifier._parameter_constraints,
        "hidden_layer_sizes": [PositiveInts()],
    }
    _standardize_once = True

    def _module(self, n_features, n_classes, image_shape):
        return FCNet(n_features, n_classes, tuple(int(s) for s in self.hidden_layer_sizes),
                     dropout=float(self.dropout), batchnorm=bool(self.batchnorm),
                     batchnorm_momentum=float(self.batchnorm_momentum))


class CNNClassifier(BaseNetClassifier):
    __doc__ = """Convolutional network classifier (the exercise's part 2).

    conv 32-32 / pool / conv 64-64 / pool / dense 200 / dense n_classes,
    3x3 'same' convolutions, ReLU, 2x2 max-pooling. ``dropout=0.3`` is
    ``cnn_dropout``; adding ``batchnorm=True`` is ``cnn_dropout_batchnorm``.

    Parameters
    ----------
    conv_filters : tuple of int, default=(32, 64)
        Filters of the two convolution blocks (two convolutions each).
    dense_units : int, default=200
        Units of the hidden dense layer.
    dropout : float, default=0.0
        Dropout rate after each pooling and after the hidden dense layer.
    batchnorm : bool, default=False
        Batch normalization after every convolution and the hidden dense
        layer, before the ReLU (Keras's epsilon 0.001).
    batchnorm_momentum : float, default=0.01
        How fast the batch normalization's running statistics follow the
        batches (PyTorch's convention; the course's Keras momentum 0.99 is 0.01).
        On small data sets, 0.1 lets them settle within fewer steps.
    """ + _SHARED_PARAMS_DOC + """
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

    def __init__(self, conv_filters=(32, 64), dense_units=200, *, dropout=0.0, batchnorm=False,
                 batchnorm_momentum=0.01, lr=0.001, max_epochs=30, batch_size=128, optimizer="adam",
                 optimizer_params=None, criterion_params=None, weight_decay=0.0,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=5,
                 augment=False, input_scaling="channel", class_weight=None, image_shape=None,
                 warm_start=False, random_state=None, device="cpu", n_threads=None, verbose=0,
                 callbacks=None):
        self.conv_filters = conv_filters
        self.dense_units = dense_units
        self.dropout = dropout
        self.batchnorm = batchnorm
        self.batchnorm_momentum = batchnorm_momentum
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.optimizer_params = optimizer_params
        self.criterion_params = criterion_params
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.augment = augment
        self.input_scaling = input_scaling
        self.class_weight = class_weight
        self.image_shape = image_shape
        self.warm_start = warm_start
        self.random_state = random_state
        self.device = device
        self.n_threads = n_threads
        self.verbose = verbose
        self.callbacks = callbacks

    _parameter_constraints = {
        **BaseNetClassifier._parameter_constraints,
        "conv_filters": [PositiveInts(allow_empty=False)],
        "dense_units": [Ints(1)],
    }

    def _module(self, n_features, n_classes, image_shape):
        return CNN(image_shape, n_classes, tuple(int(f) for f in self.conv_filters),
                   int(self.dense_units), dropout=float(self.dropout),
                   batchnorm=bool(self.batchnorm),
                   batchnorm_momentum=float(self.batchnorm_momentum))
