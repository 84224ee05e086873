"""WSGI entry point for gunicorn (`minifin serve`): the app built from the environment."""

from service import create_app

app = create_app()
