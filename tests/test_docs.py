"""The documentation builds with mkdocs without a broken link, and the README's links and
pictures name files that exist."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def test_docs_build_strictly(tmp_path):
    pytest.importorskip("mkdocs")
    mkdocs = Path(sys.executable).parent / "mkdocs"
    result = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", tmp_path], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "index.html").exists() and (tmp_path / "training" / "index.html").exists()


def test_readme_links_and_images_name_files_in_the_repository():
    targets = re.findall(r"\]\(([^)\s]+)\)", (ROOT / "README.md").read_text())
    local = [target.split("#")[0] for target in targets if not target.startswith(("http", "#"))]
    assert "docs/training.md" in local and "docs/gallery/mnist.png" in local
    missing = [target for target in local if not (ROOT / target).exists()]
    assert not missing, f"README links to missing files: {missing}"
