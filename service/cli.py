"""The `minifin` command: dev, serve, worker, mock-idp, db, keys, seed, and the commands the
capabilities contribute (clients, jobs, deposits, refunds, gifts), added from the composition
root (service/bootstrap.py)."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from flask.cli import FlaskGroup

from config import ConfigError, load_settings
from service.bootstrap import default_wiring
from service.cli_certs import keys_certs, keys_csr
from service.cli_db import db
from service.security import keyfiles


def _create_app():
    from service import create_app

    try:
        return create_app()
    except (ConfigError, keyfiles.KeysFileError, RuntimeError) as exc:  # RuntimeError: no app keys
        raise click.ClickException(str(exc)) from exc


class MinifinGroup(FlaskGroup):
    """Flask's group, listing its commands without building the app.

    FlaskGroup builds the app to list the commands extensions add to it, so on a fresh checkout
    (no instance/, no keys) `minifin --help` printed a traceback and lost `db`. Every command is
    registered on the group itself instead (`db` below, `limiter` as a plugin), so the help
    needs no app; a command still builds it when it runs.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()
        return sorted(self.commands)


@click.group(
    cls=MinifinGroup,
    create_app=_create_app,
    add_version_option=False,  # Flask's would print Flask's and Python's versions, not ours
    load_dotenv=False,
    set_debug_flag=False,
)
@click.version_option(package_name="minifin", prog_name="minifin", message="%(prog)s %(version)s")
def main() -> None:
    """Minifin: real-name authentication, credit authorisation and gift vouchers for
    mini-programs."""


main.add_command(db)
for _command in default_wiring().cli_commands:
    main.add_command(_command)


@main.command(with_appcontext=False)
@click.option("--api-port", default=5000, show_default=True)
@click.option("--mock-port", default=5001, show_default=True)
def dev(api_port: int, mock_port: int) -> None:
    """Set up instance/ if needed, then run the API, the mock identity provider and a worker."""
    from service.devserver import run_dev

    run_dev(api_port=api_port, mock_port=mock_port)


@main.command(with_appcontext=False)
@click.option("--bind", default="127.0.0.1:5000", show_default=True)
@click.option("--workers", default=2, show_default=True, help="Processes.")
@click.option("--threads", default=4, show_default=True, help="Threads per process.")
def serve(bind: str, workers: int, threads: int) -> None:
    """Run the API under gunicorn (production)."""
    try:
        load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--access-logfile",
        "-",
        "--logger-class",
        "service.access_log.RedactingGunicornLogger",
        "service.wsgi:app",
    ]
    os.execv(sys.executable, argv)  # noqa: S606 (replaces this process with gunicorn)


@main.command()
@click.option("--poll-interval", type=float, help="Seconds between polls when idle.")
@click.option("--batch-size", default=100, show_default=True)
@click.option(
    "--source", "sources", multiple=True,
    help="Only this kind of due work (repeatable; e.g. due_gifts, outbox). Default: all.",
)  # fmt: skip
@click.option(
    "--summary-every", default=60.0, show_default=True, help="Seconds between summary log lines."
)
def worker(
    poll_interval: float | None, batch_size: int, sources: tuple[str, ...], summary_every: float
) -> None:
    """Run a worker: performs due work from the database until SIGTERM."""
    from flask import current_app

    from service.components import components
    from service.scheduler.outbox import WAKE_CHANNEL
    from service.scheduler.wakeup import listener_for
    from service.scheduler.worker import Worker

    known = components().wiring.due_work  # every kind of due work the app was composed with
    unknown = sorted(set(sources) - set(known))
    if unknown:
        raise click.BadParameter(
            f"{', '.join(unknown)} (known: {', '.join(sorted(known))})", param_hint="--source"
        )
    config = components().settings
    loop = Worker(
        # current_app is a proxy, typed by Flask as the app itself; the worker needs the real one
        current_app._get_current_object(),  # type: ignore[attr-defined]
        sources=[known[name] for name in sources] or None,
        poll_interval=poll_interval or config.worker_poll_interval,
        batch_size=batch_size,
        summary_every=summary_every,
        wait=listener_for(config, WAKE_CHANNEL),
    )
    loop.install_signal_handlers()
    loop.run()


@main.command("mock-idp", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5001, show_default=True)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("instance/mock-idp"),
    show_default=True,
)
def mock_idp(host: str, port: int, data_dir: Path) -> None:
    """Run the mock identity provider (a stand-in for the platform's open gateway)."""
    from service.mock_idp import create_mock_app
    from service.mock_idp.server import serve

    production = os.environ.get("MINIFIN_PROFILE") == "production"
    data_dir.mkdir(parents=True, exist_ok=True)
    app = create_mock_app(data_dir, control_api=not production)
    click.echo(f"mock identity provider on http://{host}:{port} (data in {data_dir})")
    serve(app, host, port)


@main.group(cls=click.Group)
def keys() -> None:
    """Generate and rotate Minifin's own keys; certificate mode's CSR and files."""


keys.add_command(keys_csr)
keys.add_command(keys_certs)


def _keys_path(path: Path | None) -> Path:
    if path:
        return path
    return Path(
        os.environ.get("MINIFIN_KEYS_FILE")
        or Path(os.environ.get("MINIFIN_INSTANCE_DIR", "instance")) / "keys.json"
    )


@keys.command("generate")
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dev", is_flag=True, help="Mark the keys as development keys.")
@click.option("--force", is_flag=True, help="Overwrite an existing keys file.")
@click.option(
    "--app-key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a new RSA-2048 app private key here (upload its public key).",
)
def keys_generate(path: Path | None, dev: bool, force: bool, app_key: Path | None) -> None:
    """Create the keys file (JWT signing, field encryption, blind index, token secret)."""
    from service.gateway import signing

    path = _keys_path(path)
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; use --force to replace it (tokens break)")
    keyfiles.write_keys(path, keyfiles.new_keys_document(dev=dev))
    click.echo(f"wrote {path}")
    if app_key:
        key = signing.generate_private_key()
        app_key.parent.mkdir(parents=True, exist_ok=True)
        app_key.write_text(signing.private_key_pem(key, dev=dev), encoding="utf-8")
        app_key.chmod(0o600)
        click.echo(f"wrote {app_key}; upload this public key to the platform:")
        click.echo(signing.public_key_base64(key))


@keys.command("rotate")
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--fields",
    is_flag=True,
    help="Rotate the field-encryption key instead, and re-encrypt every sealed value with it.",
)
@click.option(
    "--resume",
    is_flag=True,
    help="With --fields: re-encrypt to the newest key without adding another (after a stop).",
)
@click.option("--batch-size", default=500, show_default=True, help="Rows per transaction.")
@click.pass_context
def keys_rotate(
    ctx: click.Context, path: Path | None, fields: bool, resume: bool, batch_size: int
) -> None:
    """Add a new JWT signing key (or, with --fields, a field-encryption key)."""
    path = _keys_path(path)
    try:
        document = keyfiles.read_keys(path)
        settings = load_settings()
    except (keyfiles.KeysFileError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from exc
    if fields:
        _rotate_field_keys(ctx, path, document, resume=resume, batch_size=batch_size)
        return
    longest = max(settings.access_token_ttl, settings.client_token_ttl)
    retired_before = datetime.now(UTC) - timedelta(seconds=longest + 60)
    rotated = keyfiles.rotate_jwt_keys(document, retired_before=retired_before)
    keyfiles.write_keys(path, rotated)
    kids = ", ".join(k["kid"] for k in rotated["jwt"])
    click.echo(f"signing with {rotated['jwt'][-1]['kid']}; verifying {kids}")
    click.echo("API processes pick up the new key within a minute (or restart them).")


def _rotate_field_keys(
    ctx: click.Context, path: Path, document: dict, *, resume: bool, batch_size: int
) -> None:
    """Write the new key first (running processes open its values at once), then re-seal."""
    from flask.cli import ScriptInfo

    from service.extensions import db
    from service.models import SEALED_COLUMNS
    from service.security.fields import FieldCipher
    from service.security.rotation import count_stale, reseal_all

    rotated = document if resume else keyfiles.rotate_field_keys(document)
    if not resume:
        keyfiles.write_keys(path, rotated)
    cipher = FieldCipher.from_keys_document(rotated)
    click.echo(f"sealing with field key {cipher.active}")
    app = ctx.ensure_object(ScriptInfo).load_app()
    with app.app_context():
        total = count_stale(db.session, SEALED_COLUMNS, cipher)
        with click.progressbar(length=total, label="re-encrypting", show_pos=True) as bar:
            rewritten = reseal_all(db.session, SEALED_COLUMNS, cipher, batch_size=batch_size,
                                   progress=bar.update)  # fmt: skip
    click.echo(f"re-encrypted {rewritten} row(s); every sealed value now uses {cipher.active}")


@main.command()
def seed() -> None:
    """Register this app with the mock identity provider (dev and test only)."""
    from service.devserver import register_with_mock

    settings = load_settings()
    if settings.is_production:
        raise click.ClickException("seed is for the dev and test profiles")
    register_with_mock(settings)
    click.echo(f"app {settings.app_id} registered with {settings.mock_idp_url}")


if __name__ == "__main__":
    main()
