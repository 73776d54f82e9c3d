"""Texts for users call the course's notebook "the course's" or "the exercise's";
"seed" means a random seed only."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
USER_TEXTS = sorted(
    [
        ROOT / "README.md",
        *ROOT.glob("docs/**/*.rst"),
        *ROOT.glob("facenet_sk/**/*.py"),
        *ROOT.glob("notebooks/*.md"),
        *ROOT.glob("notebooks/*.ipynb"),
        *ROOT.glob("benchmarks/*.py"),
        *ROOT.glob("benchmarks/*.md"),
    ]
)
NOTEBOOK_AS_SEED = re.compile(
    r"\bseed's\b|\bseed (networks?|models?|protocol|settings?)\b", re.IGNORECASE
)


@pytest.mark.parametrize("path", USER_TEXTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_notebook_is_not_called_the_seed(path):
    text = path.read_text(encoding="utf-8")
    found = [m.group(0) for m in NOTEBOOK_AS_SEED.finditer(text)]
    assert not found, f"{path.name}: {found}"
