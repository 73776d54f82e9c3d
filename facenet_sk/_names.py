"""The names of the networks, baselines and data sources, in one place.

This module imports nothing, so that the command line's help texts (which
list these names) answer without waiting for torch or scikit-learn; the
modules that build the models and load the data take their names from here.

Examples
--------
>>> from facenet_sk._names import MODEL_NAMES
>>> MODEL_NAMES[0]
'only_fc'
"""

#: The exercise's models, in the order the course trains them.
MODEL_NAMES = ("only_fc", "fc_with_hidden", "cnn", "cnn_dropout", "cnn_dropout_batchnorm")
#: Names of the classic baselines, as the CLI and compare tables show them.
BASELINE_NAMES = ("logistic_regression", "eigenfaces_svm")
#: Names of the pretrained face-embedding rows (need ``facenet_sk[faces]``).
FACE_BASELINE_NAMES = ("face_embedding", "face_embedding_fcnet")
#: Named data sources; anything else is a folder with one sub-folder per person.
DATA_SOURCES = ("synthetic", "eight-faces", "lfw")
