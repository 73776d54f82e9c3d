"""What a person sees while models train: colour only where it belongs, the bar
and the epoch tables on lines of their own, a line per fit of a search."""

import fcntl
import io
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios

import pytest
from sklearn.base import clone

from facenet_sk import FCNetClassifier
from facenet_sk._progress import EpochTable, FitProgress, strip_colour, use_colour

COLOUR = re.compile(r"\x1b\[\d+m")


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def epoch_table_text(faces, monkeypatch, stream):
    monkeypatch.setattr(sys, "stdout", stream)
    FCNetClassifier(
        hidden_layer_sizes=(8,), max_epochs=2, batch_size=8, random_state=0, verbose=1
    ).fit(faces.images / 255, faces.target, X_valid=faces.images / 255, y_valid=faces.target)
    monkeypatch.undo()
    return stream.getvalue()


def test_epoch_table_is_coloured_on_a_terminal_only(faces, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    on_terminal = epoch_table_text(faces, monkeypatch, FakeTerminal())
    assert COLOUR.search(on_terminal)
    monkeypatch.delenv("NO_COLOR", raising=False)
    in_a_file = epoch_table_text(faces, monkeypatch, io.StringIO())
    assert "train_acc" in in_a_file and "\x1b" not in in_a_file
    # The same table: the same header, rows of the same width.
    assert [len(line) for line in strip_colour(on_terminal).splitlines()] == [
        len(line) for line in in_a_file.splitlines()
    ]


def test_no_color_switches_colour_off_on_a_terminal(faces, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    text = epoch_table_text(faces, monkeypatch, FakeTerminal())
    assert "valid_acc" in text and "\x1b" not in text


def test_use_colour(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_colour(FakeTerminal()) and not use_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "")  # empty means unset (no-color.org)
    assert use_colour(FakeTerminal())
    monkeypatch.setenv("NO_COLOR", "yes")
    assert not use_colour(FakeTerminal())


def test_every_network_prints_through_the_epoch_table(faces):
    model = FCNetClassifier(hidden_layer_sizes=(), max_epochs=1, random_state=0)
    model.fit(faces.images / 255, faces.target)
    assert isinstance(dict(model.net_.callbacks_)["print_log"], EpochTable)


def test_fit_progress_counts_fits_across_clones_and_estimates_time_left(faces):
    lines = []
    progress = FitProgress(total=3, sink=lines.append)
    model = FCNetClassifier(
        hidden_layer_sizes=(), max_epochs=1, random_state=0, callbacks=[progress]
    )
    for _ in range(3):
        clone(model).fit(faces.images / 255, faces.target)
    assert [line.split(":")[0] for line in lines] == [
        "fit 1/3",
        "fit 2/3",
        "fit 3/3 (refit of the best candidate on all the data)",
    ]
    assert "left" not in lines[0] and all(", about " in line for line in lines[1:])
    assert progress.finished_ == 3


def _visible_lines(raw):
    """The lines a terminal would show: each '\\r' returns to column 0 and overwrites."""
    shown = []
    for line in raw.replace("\r\n", "\n").split("\n"):
        cells = []
        for part in line.split("\r"):
            part = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", part)
            cells[: len(part)] = part
        shown.append("".join(cells).rstrip())
    return shown


def _run_in_terminal(argv, env):
    """Run the command with a pseudo-terminal as stdout and stderr; return what it wrote."""
    controller, terminal = pty.openpty()
    # A terminal of 40 rows and 120 columns (a new pseudo-terminal has 0 x 0, where
    # tqdm draws an empty bar).
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal, env=env, close_fds=True
    )
    os.close(terminal)
    chunks = []
    while True:
        ready, _, _ = select.select([controller], [], [], 600)
        if not ready:
            process.kill()
            break
        try:
            data = os.read(controller, 65536)
        except OSError:  # the command closed the terminal: it has ended
            break
        if not data:
            break
        chunks.append(data)
    process.wait(timeout=60)
    os.close(controller)
    assert process.returncode == 0, b"".join(chunks).decode(errors="replace")[-2000:]
    return b"".join(chunks).decode(errors="replace")


@pytest.mark.parametrize("no_color", [None, "1"])
def test_in_a_terminal_the_bar_and_the_epoch_tables_keep_to_their_own_lines(tmp_path, no_color):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(MPLBACKEND="Agg", **({"NO_COLOR": no_color} if no_color else {}))
    raw = _run_in_terminal(
        [
            sys.executable,
            "-m",
            "facenet_sk.cli",
            "compare",
            "--max-people",
            "3",
            "--max-per-person",
            "21",
            "--epochs",
            "3",
            "--models",
            "only_fc,fc_with_hidden",
            "--out",
            str(tmp_path / "out"),
        ],
        env,
    )
    assert "models:" in raw  # the bar was drawn ...
    lines = _visible_lines(raw)
    rows = [line for line in lines if re.match(r"^\s+[123]\s+\d\.\d{4}", line)]
    assert len(rows) == 6  # ... 3 epochs of 2 models, each row on a line of its own
    for line in lines:
        assert not (
            "models:" in line
            and ("train_acc" in line or "[" in line.split("models:")[0] or line in rows)
        ), line
    headers = [line for line in lines if re.fullmatch(r"\[\d/2\] \w+", line)]
    assert headers == ["[1/2] only_fc", "[2/2] fc_with_hidden"]
    if no_color:
        assert not COLOUR.search(raw)
    else:
        assert COLOUR.search(raw)
