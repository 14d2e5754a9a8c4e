"""Entry point for `flask --app app ...` and WSGI servers."""

from oncord import create_app

app = create_app()
