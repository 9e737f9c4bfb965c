"""``python -m pipeline`` runs the ``envmon`` command line."""

from pipeline.cli import app

app(prog_name="envmon")
