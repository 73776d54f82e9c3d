"""``.. facenet-sk:: ARGS``: what the ``facenet-sk`` command prints for ARGS.

The directive runs ``facenet_sk.cli.main(ARGS)`` while the documentation is
built and shows its output, so the pages always show what the installed
command prints (``--help`` texts, ``summary`` tables). Use it only for
commands that return at once.
"""

import contextlib
import io
import os
import shlex

from docutils import nodes
from docutils.parsers.rst import Directive

#: Terminal width that argparse wraps the help texts to.
WIDTH = "92"


def run_cli(args):
    """(exit code, stdout + stderr) of ``facenet-sk ARGS`` run in this process."""
    from facenet_sk.cli import main

    saved = {key: os.environ.get(key) for key in ("COLUMNS", "NO_COLOR", "PYTHON_COLORS")}
    os.environ.update(COLUMNS=WIDTH, NO_COLOR="1", PYTHON_COLORS="0")
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse's --help and usage errors
                code = exc.code
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return code, out.getvalue()


class FacenetSk(Directive):
    required_arguments = 0
    optional_arguments = 20
    has_content = False

    def run(self):
        code, text = run_cli(self.arguments)
        if code not in (0, None):
            raise self.error(
                f"`facenet-sk {shlex.join(self.arguments)}` exited with {code}:\n{text}"
            )
        shown = f"$ facenet-sk {shlex.join(self.arguments)}\n{text.rstrip()}"
        block = nodes.literal_block(shown, shown)
        block["language"] = "text"
        return [block]


def setup(app):
    app.add_directive("facenet-sk", FacenetSk)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
