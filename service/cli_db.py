"""`minifin db …`: Flask-Migrate's commands, with help that needs no app.

Flask-Migrate's own `db` group builds the app before its subcommand even reads `--help` (its
callback needs the app to keep the group's options on `g`), so on a fresh checkout, with no keys
yet, `minifin db upgrade --help` failed. This group keeps the options on the click context and
builds the app only when a subcommand runs.
"""

from __future__ import annotations

import copy
import functools

import click
from flask import g
from flask.cli import ScriptInfo
from flask_migrate.cli import db as migrate_db_group


@click.group("db")
@click.option("-d", "--directory", default=None, help="Migration script directory.")
@click.option("-x", "--x-arg", multiple=True, help="Additional arguments for env.py.")
@click.pass_context
def db(ctx: click.Context, directory: str | None, x_arg: tuple[str, ...]) -> None:
    """Perform database migrations."""
    ctx.meta["minifin.db_options"] = (directory, x_arg)


def _in_app_with_db_options(command: click.Command) -> click.Command:
    """Flask-Migrate's command, given its group's options once the app is built."""
    command = copy.copy(command)
    run = command.callback
    assert run is not None

    @functools.wraps(run)
    def in_app(*args, **kwargs):
        ctx = click.get_current_context()
        directory, x_arg = ctx.meta.get("minifin.db_options", (None, ()))
        with ctx.ensure_object(ScriptInfo).load_app().app_context():
            g.directory, g.x_arg = directory, x_arg
            return run(*args, **kwargs)

    command.callback = in_app
    return command


for _name, _command in migrate_db_group.commands.items():
    db.add_command(_in_app_with_db_options(_command), _name)
