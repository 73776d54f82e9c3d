"""Sphinx configuration of the facenet_sk documentation.

Build with ``sphinx-build -W -b html docs docs/_build/html`` (warnings are errors).
"""

import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "_ext"))
# autosummary writes a page per API name into generated/ (ignored by git);
# start afresh so that pages of renamed or removed names do not linger.
shutil.rmtree(os.path.join(HERE, "generated"), ignore_errors=True)

import facenet_sk  # noqa: E402

project = "facenet_sk"
author = "facenet_sk developers"
copyright = "facenet_sk developers"
version = release = facenet_sk.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "clioutput",  # docs/_ext/clioutput.py: what `facenet-sk ...` prints
]

# No intersphinx: the documentation builds without a network connection.
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"

autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"

# autodoc lists the members (see _templates/autosummary/class.rst); numpydoc
# only formats the docstrings.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "alabaster"
html_title = f"facenet_sk {release}"
html_theme_options = {
    "description": "The '8 faces' networks as scikit-learn classifiers",
    "fixed_sidebar": True,
}
html_static_path = []
