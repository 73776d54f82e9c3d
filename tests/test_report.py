"""The result files and the page: per-person scores, hyper-parameters, and what a
browser shows of report.html."""

import json
import os
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import classification_report
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from facenet_sk import FCNetClassifier, compare_models
from facenet_sk.datasets import make_synthetic_faces
from facenet_sk.plotting import plot_accuracy_bars, plot_face_gallery, plot_learning_curves
from facenet_sk.report import model_parameters, per_person_table, sort_results, write_report


@pytest.fixture(scope="module")
def split():
    faces = make_synthetic_faces(n_people=3, n_per_person=14, image_size=16, random_state=0)
    parts = {s: faces.subset == s for s in ("train", "valid", "test")}
    return {s: (faces.data[m], faces.target[m]) for s, m in parts.items()}, faces.target_names


@pytest.fixture(scope="module")
def table(split):
    data, _ = split
    models = {
        "dummy": DummyClassifier(strategy="most_frequent"),
        "net": make_pipeline(
            StandardScaler(),
            FCNetClassifier(
                hidden_layer_sizes=(8,), max_epochs=2, batch_size=8, lr=0.01, random_state=0
            ),
        ),
        "logreg": make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=500)),
    }
    return compare_models(
        models,
        *data["train"],
        *data["test"],
        X_valid=data["valid"][0],
        y_valid=data["valid"][1],
        progress=False,
    )


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory, table, split):
    data, names = split
    table = sort_results(table)
    X_test, y_test = data["test"]
    models = table.attrs["models"]
    figures = {
        "accuracy": plot_accuracy_bars(table),
        "faces": plot_face_gallery(
            models[table["model"][0]], X_test, y_test, target_names=names, image_shape=(16, 16, 3)
        ),
        "learning_curves": plot_learning_curves(table),
    }
    out = tmp_path_factory.mktemp("report")
    write_report(
        table,
        out,
        figures=figures,
        notes=["command: test"],
        sections={
            "data": {"people": 3, "crop": "none"},
            "hyper-parameters": model_parameters(models),
        },
        per_person=per_person_table(table, X_test, y_test, target_names=names),
    )
    return out


def test_sort_results_puts_the_best_test_accuracy_first_and_keeps_the_models(table):
    ordered = sort_results(table)
    assert ordered["test_accuracy"].is_monotonic_decreasing
    assert ordered.attrs["models"] is table.attrs["models"]
    assert list(ordered.index) == list(range(len(table)))


def test_per_person_table_is_scikit_learns_classification_report(table, split):
    data, names = split
    X_test, y_test = data["test"]
    scores = per_person_table(table, X_test, y_test, target_names=names)
    assert list(scores["model"].unique()) == list(table["model"])
    net = scores[scores["model"] == "net"].set_index("person")
    expected = classification_report(
        y_test,
        table.attrs["models"]["net"].predict(X_test),
        target_names=list(names),
        output_dict=True,
        zero_division=0,
    )
    for person in names:
        for column in ("precision", "recall", "f1-score"):
            assert net.loc[person, column] == pytest.approx(expected[person][column])
        assert net.loc[person, "support"] == expected[person]["support"]
    dummy = scores[scores["model"] == "dummy"]
    assert dummy["recall"].tolist() == [1.0, 0.0, 0.0]  # it always says person_0


@pytest.mark.parametrize("name", ["accuracy", "macro avg", "weighted avg", "micro avg"])
def test_a_person_named_like_a_summary_row_gets_their_own_scores(name):
    """classification_report's dict also holds its summary rows under these names."""
    model = DummyClassifier(strategy="most_frequent").fit([[0], [1], [1]], [0, 1, 1])
    scores = per_person_table(
        {"d": model}, [[0], [1], [1]], [0, 1, 1], target_names=[name, "bob"]
    ).set_index("person")
    assert scores.loc[name, ["precision", "recall", "support"]].tolist() == [0.0, 0.0, 1]
    assert scores.loc["bob", ["recall", "support"]].tolist() == [1.0, 2]


def test_model_parameters_show_every_network_setting(table):
    params = model_parameters(table.attrs["models"]).set_index("model")
    assert params.loc["net", "steps"] == "StandardScaler -> FCNetClassifier"
    for text in ("lr=0.01", "batch_size=8", "max_epochs=2", "optimizer='adam'", "StandardScaler()"):
        assert text in params.loc["net", "parameters"]
    assert "LogisticRegression(C=0.5, max_iter=500)" in params.loc["logreg", "parameters"]


def test_report_files_hold_the_per_person_table_and_the_gallery(report_dir):
    names = sorted(p.name for p in report_dir.iterdir())
    assert names[0] == ".facenet_sk-files.json"  # the record of the files written
    assert names[1:] == [
        "accuracy.png",
        "faces.png",
        "learning_curves.png",
        "per_person.csv",
        "report.html",
        "results.csv",
        "results.md",
    ]
    page = (report_dir / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3 and 'alt="faces"' in page
    assert "per person:" in page and "F1 per person, every model" in page
    assert "<h2>hyper-parameters</h2>" in page and "<h2>data</h2>" in page
    markdown = (report_dir / "results.md").read_text()
    assert "## per person:" in markdown and "| person_2" in markdown
    csv = pd.read_csv(report_dir / "per_person.csv")
    assert len(csv) == 3 * 3 and csv["support"].dtype.kind == "i"
    results = pd.read_csv(report_dir / "results.csv")
    assert results["test_accuracy"].is_monotonic_decreasing
    first = markdown.index(f"| {results['model'][0]} ")
    assert all(first < markdown.index(f"| {m} ") for m in results["model"][1:])


# ------------------------------------------------------------ hostile names
#: Person names are folder names: anyone who hands over a folder of photos chooses them.
HOSTILE = [
    '=HYPERLINK("evil.example","click")',
    "=cmd|' calc'!A0",
    "@SUM(1+1)",
    "+1+2",
    "-2+3",
    "\tTAB",
    "\rCR",
    "a|b",
    "two\nlines",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "back\\|slash",
]


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory):
    n = len(HOSTILE)
    X = np.repeat(np.eye(n), 2, axis=0)
    y = np.repeat(np.arange(n), 2)
    models = {
        "=evil|model": DummyClassifier(strategy="most_frequent").fit(X, y),
        "logreg": LogisticRegression(max_iter=200).fit(X, y),
    }
    table = pd.DataFrame({"model": list(models), "test_accuracy": [-0.5, 1.0]})
    table.attrs["models"] = models
    out = tmp_path_factory.mktemp("hostile")
    write_report(
        table,
        out,
        per_person=per_person_table(table, X, y, target_names=HOSTILE),
        notes=["data: folder <b>x</b>\nsecond line"],
        sections={"data": {"people": "=1+1|<i>"}},
    )
    return out


def test_no_csv_cell_starts_a_formula(hostile_report):
    import csv

    read = {}
    for name in ("per_person.csv", "results.csv"):
        with open(hostile_report / name, newline="", encoding="utf-8") as f:
            read[name] = rows = list(csv.reader(f))
        for row in rows:
            for cell in row:
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), (name, cell)
                # A minus starts a cell only as a genuine number.
                if cell.startswith("-"):
                    float(cell)
    # The cells exactly as a spreadsheet gets them.
    people = {row[1] for row in read["per_person.csv"][1:]}
    assert people == {("'" + n if n[0] in "=+-@\t\r" else n) for n in HOSTILE}
    results = pd.read_csv(hostile_report / "results.csv")
    assert results["test_accuracy"].tolist() == [-0.5, 1.0]  # numbers stay numbers
    assert results["model"].tolist() == ["'=evil|model", "logreg"]


def _markdown_tables(markdown):
    """Each Markdown table as a list of rows of cells, split on the unescaped pipes."""
    tables, rows = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
        elif rows:
            tables.append(rows)
            rows = []
    return tables


def test_markdown_cells_stay_in_their_columns_and_carry_no_html(hostile_report):
    markdown = (hostile_report / "results.md").read_text()
    for table in _markdown_tables(markdown):
        assert len({len(row) for row in table}) == 1, table  # no shifted column
    per_person = [t for t in _markdown_tables(markdown) if t[0][0] == "person"][0]
    assert len(per_person) == 2 + len(HOSTILE)  # header, rule, one row a person: no phantom
    assert "<img" not in markdown and "<b>" not in markdown and "<i>" not in markdown
    assert "&lt;img src=x onerror=alert(1)&gt;" in markdown
    assert "\\[click\\](javascript:alert(1))" in markdown
    assert "- data: folder &lt;b&gt;x&lt;/b&gt; second line" in markdown


def test_missing_values_are_empty_markdown_cells(tmp_path):
    """Not pandas' "<NA>", which a Markdown renderer takes for an HTML tag and hides."""
    table = pd.DataFrame(
        {
            "model": ["a", "b"],
            "epochs": pd.array([3, None], dtype="Int64"),
            "valid_accuracy": [0.5, np.nan],
        }
    )
    write_report(table, tmp_path)
    markdown = (tmp_path / "results.md").read_text()
    assert "<NA>" not in markdown and "nan" not in markdown
    assert re.search(r"\| b +\| +\| +\|", markdown)


def test_report_html_escapes_every_name(hostile_report):
    page = (hostile_report / "report.html").read_text()
    assert "<img src=x" not in page and "<b>x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


# ------------------------------------------------------------ in a browser
def chromium():
    """The headless browser; skip without it, but fail on CI (CI=true)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    reason = "no chromium on the PATH (Debian: apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must run the browser check")
    pytest.skip(reason)


BROWSER_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--virtual-time-budget=10000",
]

#: Run after the page loads: what the browser made of every image and of the table.
PROBE = """<script>
window.addEventListener("load", function () {
  var report = {images: [], tables: []};
  Array.prototype.forEach.call(document.images, function (img) {
    report.images.push({alt: img.alt, complete: img.complete, naturalWidth: img.naturalWidth,
                        shownWidth: img.getBoundingClientRect().width});
  });
  Array.prototype.forEach.call(document.querySelectorAll("table"), function (table) {
    report.tables.push({id: table.id, rows: table.rows.length,
                        height: table.getBoundingClientRect().height});
  });
  var out = document.createElement("pre");
  out.id = "browser-check";
  out.textContent = JSON.stringify(report);
  document.body.appendChild(out);
});
</script>"""


def test_a_browser_shows_every_figure_and_the_table(report_dir, tmp_path):
    browser = chromium()
    page = (report_dir / "report.html").read_text()
    probed = tmp_path / "probed.html"  # a copy: the report itself stays as written
    probed.write_text(page.replace("</body>", PROBE + "</body>"))
    result = subprocess.run(
        [browser, *BROWSER_FLAGS, "--dump-dom", probed.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
    )
    found = re.search(r'<pre id="browser-check">(.*?)</pre>', result.stdout, re.S)
    assert found, result.stderr[-2000:]
    seen = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert [img["alt"] for img in seen["images"]] == ["accuracy", "faces", "learning_curves"]
    for img in seen["images"]:
        assert img["complete"] and img["naturalWidth"] > 100 and img["shownWidth"] > 100, img
    results = [t for t in seen["tables"] if t["id"] == "results"]
    assert results and results[0]["rows"] == 1 + 3 and results[0]["height"] > 40


def test_a_screenshot_of_the_report_is_not_blank(report_dir, tmp_path):
    browser = chromium()
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            browser,
            *BROWSER_FLAGS,
            "--window-size=1200,1800",
            f"--screenshot={shot}",
            (report_dir / "report.html").as_uri(),
        ],
        capture_output=True,
        timeout=180,
        check=True,
    )
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels.shape[:2] == (1800, 1200)
    # The bars of the accuracy figure: matplotlib's first colour, in the first screen.
    blue = (np.abs(pixels.astype(int) - [31, 119, 180]).max(axis=-1) < 12).sum()
    assert blue > 2000
