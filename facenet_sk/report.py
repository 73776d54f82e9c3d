"""Result files of a comparison: CSV, Markdown, PNG figures and one HTML page."""

import base64
import html
import io
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_fscore_support

from ._atomic import staged_directory

_STYLE = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 10px;
text-align:right}th{background:#f3f3f3}td:first-child{text-align:left}
table.text td{text-align:left;vertical-align:top}table.text td:last-child{font-size:0.9em}
img{max-width:100%;border:1px solid #eee;margin:0.5em 0}code{background:#f6f6f6;padding:2px}"""


#: Cell starts a spreadsheet reads as a formula (OWASP's list for CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_MARKDOWN_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        "|": "\\|",
        "[": "\\[",
        "]": "\\]",
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        # Every character str.splitlines breaks at: some editors and renderers do too.
        **dict.fromkeys("\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029", " "),
    }
)


def _text_columns(frame):
    return [
        c
        for c in frame.columns
        if pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c])
    ]


def csv_safe(frame):
    """A copy of ``frame`` whose text cells cannot start a spreadsheet formula.

    Person names are folder names, chosen by whoever made the folder. A text
    cell (or column name) that starts with ``=``, ``+``, ``-``, ``@``, a tab
    or a carriage return gets a leading ``'``, the OWASP rule against CSV
    injection; numbers, negative ones included, stay numbers.

    Examples
    --------
    >>> import pandas as pd
    >>> csv_safe(pd.DataFrame({"person": ["=1+1", "ann"], "score": [-0.5, 1.0]})).values.tolist()
    [["'=1+1", -0.5], ['ann', 1.0]]
    """

    def neutral(value):
        return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value

    safe = frame.copy()
    for column in _text_columns(safe):
        safe[column] = safe[column].map(neutral)
    safe.columns = [neutral(c) for c in safe.columns]
    return safe


def markdown_text(text):
    """``text`` for a Markdown line or table cell: one line, no HTML, no link, no cell break.

    Backslashes, ``|``, ``[`` and ``]`` are escaped with a backslash, ``&``,
    ``<`` and ``>`` become HTML entities and line breaks (every character
    :meth:`str.splitlines` breaks at) spaces.

    Examples
    --------
    >>> markdown_text("a|b <img>\\nnext")
    'a\\\\|b &lt;img&gt; next'
    """
    return str(text).translate(_MARKDOWN_ESCAPES)


def _markdown_table(frame):
    safe = frame.copy()
    for column in _text_columns(safe):
        safe[column] = safe[column].map(lambda v: markdown_text(v) if isinstance(v, str) else v)
    for column in safe.columns[safe.isna().any().to_numpy()]:
        # Empty, as on the HTML page: pandas' "<NA>" would read as an HTML tag
        # (and show nothing) once rendered.
        safe[column] = safe[column].astype(object).where(safe[column].notna(), "")
    safe.columns = [markdown_text(c) for c in safe.columns]
    return safe.to_markdown(index=False)


def sort_results(table):
    """A results table in the order every output shows it: best test accuracy first.

    Ties keep the order the models were given in. ``attrs`` (the fitted
    models) go with the table.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"model": ["a", "b", "c"], "test_accuracy": [0.5, 0.9, 0.5]})
    >>> sort_results(table)["model"].tolist()
    ['b', 'a', 'c']
    """
    if "test_accuracy" not in table:
        return table
    ordered = table.sort_values(
        "test_accuracy", ascending=False, kind="stable", na_position="last"
    ).reset_index(drop=True)
    ordered.attrs = table.attrs
    return ordered


def _describe(estimator):
    """'lr=0.001, max_epochs=30, ...': every parameter of a network, the changed ones
    of any other scikit-learn estimator (as its repr shows them)."""
    from ._base import BaseNetClassifier

    if isinstance(estimator, BaseNetClassifier):
        params = estimator.get_params(deep=False)
        if params.get("callbacks"):
            params["callbacks"] = [
                type(c[-1] if isinstance(c, tuple) else c).__name__ for c in params["callbacks"]
            ]
        return ", ".join(f"{k}={v!r}" for k, v in params.items())
    return repr(estimator).replace("\n", " ")


def model_parameters(models):
    """The steps and hyper-parameters of every model, one row each.

    Parameters
    ----------
    models : dict of str -> estimator
        E.g. ``table.attrs["models"]`` of a :func:`~facenet_sk.compare_models` table.

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``steps`` (the Pipeline's step classes) and
        ``parameters``: for a network every hyper-parameter (lr,
        batch_size, optimizer, max_epochs, dropout...); for other
        estimators the ones changed from scikit-learn's defaults.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> model_parameters({"logreg": LogisticRegression(C=0.5)}).loc[0, "parameters"]
    'LogisticRegression(C=0.5)'
    """
    from sklearn.pipeline import Pipeline

    rows = []
    for name, model in models.items():
        steps = [s for _, s in model.steps] if isinstance(model, Pipeline) else [model]
        head = [repr(s).replace("\n", " ") for s in steps[:-1]]
        rows.append(
            {
                "model": name,
                "steps": " -> ".join(type(s).__name__ for s in steps),
                "parameters": "; ".join(head + [_describe(steps[-1])]),
            }
        )
    return pd.DataFrame(rows, columns=["model", "steps", "parameters"])


def per_person_table(results, X_test, y_test, *, target_names=None):
    """Precision, recall, F1 and support of every person for every model (test set).

    The per-class scores of :func:`sklearn.metrics.classification_report`
    (from :func:`~sklearn.metrics.precision_recall_fscore_support`).

    Parameters
    ----------
    results : pandas.DataFrame or dict
        The table :func:`~facenet_sk.compare_models` returned (its models in
        the table's order), or a dict name -> fitted model.
    X_test, y_test : array-like
        Test data.
    target_names : list of str, default=None
        Names of the people, in the order of the sorted labels.

    Returns
    -------
    pandas.DataFrame
        Long form: ``model``, ``person``, ``precision``, ``recall``,
        ``f1-score``, ``support``.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> model = DummyClassifier(strategy="most_frequent").fit([[0], [1], [1]], [0, 1, 1])
    >>> per_person_table({"dummy": model}, [[0], [1]], [0, 1],
    ...                  target_names=["ann", "bob"])["recall"].tolist()
    [0.0, 1.0]
    """
    from .compare import fitted_models

    models = fitted_models(results)
    if hasattr(results, "columns") and "model" in results:
        models = {name: models[name] for name in results["model"] if name in models}
    y_test = np.asarray(y_test)
    labels = np.unique(y_test)
    if target_names is not None and len(target_names) != len(labels):
        # target_names covers every class, the test set maybe fewer: name by label.
        labels = np.arange(len(target_names)) if np.issubdtype(y_test.dtype, np.integer) else labels
    names = [str(n) for n in target_names] if target_names is not None else [str(v) for v in labels]
    rows = []
    for name, model in models.items():
        # The per-class arrays classification_report is built from: its dict
        # would also answer a person named "accuracy" or "macro avg" with a
        # summary row.
        scores = precision_recall_fscore_support(
            y_test, model.predict(X_test), labels=labels, zero_division=0
        )
        for person, *values in zip(names, *scores):
            rows.append(
                {
                    "model": name,
                    "person": person,
                    **dict(zip(("precision", "recall", "f1-score", "support"), values)),
                }
            )
    table = pd.DataFrame(
        rows, columns=["model", "person", "precision", "recall", "f1-score", "support"]
    )
    table["support"] = table["support"].astype(int)
    return table


def _png_bytes(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def _display_table(table):
    """The table rounded for people to read (the CSV keeps full precision)."""
    shown = table.copy()
    for column in shown.columns:
        if column.endswith(("accuracy", "_mean", "_std", "_score")) or column in (
            "precision",
            "recall",
            "f1-score",
        ):
            shown[column] = shown[column].round(4)
        elif column.endswith("seconds"):
            shown[column] = shown[column].round(1)
    return shown


def _key_value_table(mapping):
    return pd.DataFrame({"": list(mapping), "value": [str(v) for v in mapping.values()]})


def _section_frames(sections, per_person):
    """(heading, DataFrame, css class) of every table after the results."""
    frames = []
    for heading, content in (sections or {}).items():
        frame = content if isinstance(content, pd.DataFrame) else _key_value_table(content)
        frames.append((heading, frame, "text"))
    if per_person is not None and len(per_person):
        best = per_person["model"].iloc[0]
        mine = per_person[per_person["model"] == best].drop(columns="model")
        frames.append((f"per person: {best} on the test set", _display_table(mine), ""))
        if per_person["model"].nunique() > 1:
            f1 = per_person.pivot(index="person", columns="model", values="f1-score")
            f1 = f1[list(dict.fromkeys(per_person["model"]))].round(3).reset_index()
            f1.columns.name = None
            frames.append(("F1 per person, every model (test set)", f1, ""))
    return frames


def write_report(
    table,
    out_dir,
    *,
    figures=None,
    title="facenet_sk comparison",
    notes=(),
    sections=None,
    per_person=None,
):
    """Write ``results.csv``, ``results.md``, one PNG per figure and ``report.html``.

    All files are written to a temporary folder first and moved into
    ``out_dir`` only when every one of them is complete, so an error (a
    full disk, Ctrl-C) leaves no partial result file behind. Every file
    shows the table in the order it is given (see :func:`sort_results`).
    Names (of people, models, folders) cannot act in the files: CSV text
    cells that would start a spreadsheet formula get a leading ``'`` (see
    :func:`csv_safe`), Markdown cells and lines are escaped (see
    :func:`markdown_text`) and the HTML page escapes every text.

    Parameters
    ----------
    table : pandas.DataFrame
        The results (e.g. from :func:`~facenet_sk.compare_models`).
    out_dir : path-like
        Folder for the files (created if missing).
    figures : dict of str -> matplotlib.figure.Figure, default=None
        Saved as ``<name>.png`` and embedded in the HTML page.
    title : str, default="facenet_sk comparison"
        Heading of the Markdown and HTML files.
    notes : sequence of str, default=()
        Lines shown under the heading (command, data, machine, time...).
    sections : dict of str -> dict or DataFrame, default=None
        More tables under their headings, e.g. ``{"data": {...}, "hyper-parameters":
        model_parameters(models)}``; a dict shows as a two-column table.
    per_person : pandas.DataFrame, default=None
        The :func:`per_person_table`: saved as ``per_person.csv``; the page and
        the Markdown file show its first model's precision / recall / F1 and
        every model's F1 per person.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Examples
    --------
    >>> write_report(table, "results", figures={"accuracy": fig})  # doctest: +SKIP
    """
    figures = dict(figures or {})
    shown = _display_table(table)
    pngs = {name: _png_bytes(fig) for name, fig in figures.items()}
    extra = _section_frames(sections, per_person)
    # Names (people, models, folders) reach these files unchanged: every
    # Markdown cell and line is escaped, every CSV text cell neutralized.
    note_md = "".join(f"- {markdown_text(line)}\n" for line in notes)
    extra_md = "".join(
        f"\n## {markdown_text(heading)}\n\n{_markdown_table(frame)}\n"
        for heading, frame, _ in extra
    )
    markdown = f"# {markdown_text(title)}\n\n{note_md}\n{_markdown_table(shown)}\n{extra_md}"
    images_html = "".join(
        f'<h2>{html.escape(name.replace("_", " "))}</h2>\n<img alt="{html.escape(name)}" '
        f'src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">\n'
        for name, data in pngs.items()
    )
    extra_html = "".join(
        f"<h2>{html.escape(heading)}</h2>\n"
        f"{frame.to_html(index=False, na_rep='', border=0, classes=css or None)}\n"
        for heading, frame, css in extra
    )
    notes_html = "".join(f"<li>{html.escape(line)}</li>" for line in notes)
    page = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n<ul>{notes_html}</ul>\n"
        f"{shown.to_html(index=False, na_rep='', border=0, table_id='results')}\n"
        f"{images_html}{extra_html}</body></html>\n"
    )

    with staged_directory(out_dir) as tmp:
        # RFC 4180's CRLF line ends: with them pandas also quotes a cell holding a
        # lone carriage return, which would otherwise start a phantom row.
        csv_safe(table).to_csv(tmp / "results.csv", index=False, lineterminator="\r\n")
        if per_person is not None:
            csv_safe(per_person).to_csv(tmp / "per_person.csv", index=False, lineterminator="\r\n")
        (tmp / "results.md").write_text(markdown, encoding="utf-8")
        for name, data in pngs.items():
            (tmp / f"{name}.png").write_bytes(data)
        (tmp / "report.html").write_text(page, encoding="utf-8")
        names = sorted(p.name for p in tmp.iterdir())
    return [Path(out_dir) / name for name in names]
