"""Result files of a comparison: CSV, Markdown, PNG figures and one HTML page."""

import base64
import html
import io
from pathlib import Path

from ._atomic import staged_directory

_STYLE = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 10px;
text-align:right}th{background:#f3f3f3}td:first-child{text-align:left}
img{max-width:100%;border:1px solid #eee;margin:0.5em 0}code{background:#f6f6f6;padding:2px}"""


def _png_bytes(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def _display_table(table):
    """The table rounded for people to read (the CSV keeps full precision)."""
    shown = table.copy()
    for column in shown.columns:
        if column.endswith(("accuracy", "_mean", "_std")):
            shown[column] = shown[column].round(4)
        elif column.endswith("seconds"):
            shown[column] = shown[column].round(1)
    return shown


def write_report(table, out_dir, *, figures=None, title="facenet_sk comparison", notes=()):
    """Write ``results.csv``, ``results.md``, one PNG per figure and ``report.html``.

    All files are written to a temporary folder first and moved into
    ``out_dir`` only when every one of them is complete, so an error (a
    full disk, Ctrl-C) leaves no partial result file behind.

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
    note_md = "".join(f"- {line}\n" for line in notes)
    markdown = f"# {title}\n\n{note_md}\n{shown.to_markdown(index=False)}\n"
    images_html = "".join(
        f'<h2>{html.escape(name.replace("_", " "))}</h2>\n<img alt="{html.escape(name)}" '
        f'src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">\n'
        for name, data in pngs.items())
    notes_html = "".join(f"<li>{html.escape(line)}</li>" for line in notes)
    page = (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>\n"
            f"<h1>{html.escape(title)}</h1>\n<ul>{notes_html}</ul>\n"
            f"{shown.to_html(index=False, na_rep='', border=0)}\n{images_html}</body></html>\n")

    with staged_directory(out_dir) as tmp:
        table.to_csv(tmp / "results.csv", index=False)
        (tmp / "results.md").write_text(markdown, encoding="utf-8")
        for name, data in pngs.items():
            (tmp / f"{name}.png").write_bytes(data)
        (tmp / "report.html").write_text(page, encoding="utf-8")
        names = sorted(p.name for p in tmp.iterdir())
    return [Path(out_dir) / name for name in names]
