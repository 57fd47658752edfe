"""A web worker starts without the libraries only rare requests and commands need (app/lazy.py,
issue 18), and app.pdf's names are all found where it says they are."""

import os
import subprocess
import sys
from pathlib import Path

import app.pdf

ROOT = Path(__file__).resolve().parent.parent
#: Imported on first use only: PDFs (fpdf and fontTools, pyHanko, pypdf, PDFium), S3 and
#: migrations.
LATE = {"fpdf", "fontTools", "pyhanko", "pypdf", "pypdfium2", "boto3", "alembic", "flask_migrate"}


def test_importing_the_web_app_leaves_the_late_libraries_out(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTICO_", "TEST_"))}
    env.update(PORTICO_INSTANCE_PATH=str(tmp_path / "instance"), PORTICO_LOG_LEVEL="WARNING")
    code = "import sys, wsgi; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert set(out.stdout.split()) & LATE == set()


def test_every_name_of_app_pdf_is_where_it_says():
    assert set(app.pdf.__all__) == set(app.pdf._WHERE)
    for name in app.pdf.__all__:
        assert getattr(app.pdf, name) is getattr(sys.modules[app.pdf._WHERE[name]], name)
