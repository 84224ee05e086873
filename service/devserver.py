"""`minifin dev`: one command that gives a newcomer the whole system on SQLite.

It prepares `instance/` (keys, the mock's platform key, the database), then runs the API, the mock
identity provider and a worker as child processes with prefixed logs, and stops all three on
Ctrl-C. Running it again reuses everything in `instance/`.

SIGINT, SIGTERM and SIGHUP all stop it, through handlers installed for each: Python installs its
Ctrl-C handler only when SIGINT is not ignored at start, so run from a script that ignored SIGINT
(`trap '' INT`, `nohup`-like wrappers, some IDEs) it used to ignore Ctrl-C and leave its three
processes running. The first signal starts the stop; later ones are ignored so they cannot cut
the stop short, and a signal that comes while a child is being started and recorded takes
effect just after, so no child is ever started without being stopped.

What it prints, and in which shape, is in dev_output.py.
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import click
import httpx

from config import Settings, load_settings
from service.dev_output import log_like_children, log_line, say, try_it_text
from service.gateway import signing
from service.security import keyfiles


def prepare_instance(instance_dir: Path) -> None:
    """Create whatever `instance/` lacks: keys, the app key pair, the mock's platform key."""
    instance_dir.mkdir(parents=True, exist_ok=True)
    keys_file = instance_dir / "keys.json"
    if not keys_file.exists():
        keyfiles.write_keys(keys_file, keyfiles.new_keys_document(dev=True))
        say(f"created {keys_file}")
    app_key = instance_dir / "app-private-key.pem"
    if not app_key.exists():
        app_key.write_text(signing.private_key_pem(signing.generate_private_key(), dev=True))
        app_key.chmod(0o600)
        say(f"created {app_key}")
    aes_key = instance_dir / "app-aes-key.txt"  # content encryption, as the console makes one
    if not aes_key.exists():
        aes_key.write_text(base64.b64encode(secrets.token_bytes(16)).decode("ascii") + "\n")
        aes_key.chmod(0o600)
        say(f"created {aes_key}")
    mock_dir = instance_dir / "mock-idp"
    mock_dir.mkdir(exist_ok=True)
    platform_key = mock_dir / "platform-key.pem"
    if not platform_key.exists():
        platform_key.write_text(signing.private_key_pem(signing.generate_private_key(), dev=True))
        platform_key.chmod(0o600)
    platform_public = instance_dir / "platform-public-key.pem"
    platform_public.write_text(
        signing.public_key_pem(signing.load_private_key(platform_key.read_text()))
    )


def migrate_database(settings: Settings) -> None:
    """Bring the database to the newest schema (`minifin db upgrade`)."""
    from flask_migrate import upgrade

    from service import MIGRATIONS_DIR, create_app

    app = create_app(settings=settings)
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)


DEMO_TEMPLATES = [
    {"name": "Flat white", "kind": "item", "face_value_fen": 3200, "price_fen": 2900,
     "description": "One flat white, any size, in any of our stores."},
    {"name": "Coffee card ¥100", "kind": "stored_value", "face_value_fen": 10000,
     "price_fen": 9500, "description": "Spend it over as many visits as you like."},
    {"name": "Afternoon tea for two", "kind": "item", "face_value_fen": 16800,
     "price_fen": 15800, "description": "Two drinks and a cake stand.", "validity_days": 90},
]  # fmt: skip


def seed_demo_templates(settings: Settings) -> int:
    """Give a new dev database something to sell; returns how many templates were added."""
    from service import create_app
    from service.gifting.templates import create_template, list_templates

    app = create_app(settings=settings)
    covers = [
        {"name": name, "image_url": f"{settings.public_url}/static/covers/{name}.svg"}
        for name in ("birthday", "thanks", "congrats")
    ]
    with app.app_context():
        if list_templates(merchant=True, limit=1).data:
            return 0
        for template in DEMO_TEMPLATES:
            create_template({"claim_window_hours": 24, "validity_days": 365,
                             "max_quantity_per_order": 10, "active": True, "covers": covers,
                             **template})  # fmt: skip
    return len(DEMO_TEMPLATES)


def register_with_mock(settings: Settings) -> None:
    """Tell the mock identity provider our app id and keys, as the platform console would.

    The app has the AES key and the phone-number product, so `my.getPhoneNumber` works in dev.
    """
    public_key = signing.public_key_pem(signing.load_private_key(settings.app_private_key or ""))
    app: dict[str, str | bool] = {
        "app_id": settings.app_id,
        "public_key": public_key,
        "name": "Minifin (dev)",
    }
    if settings.app_aes_key:
        app.update(aes_key=settings.app_aes_key.strip(), phone_number=True)
    response = httpx.post(f"{settings.mock_idp_url}/_mock/apps", json=app, timeout=5)
    response.raise_for_status()


def _wait_until_up(url: str, process: subprocess.Popen, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise click.ClickException(
                f"{url} did not start (exit {process.returncode}); "
                "see its log above (is the port taken?)"
            )
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise click.ClickException(f"{url} did not answer within {seconds:.0f}s")


def _pipe(name: str, process: subprocess.Popen) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        if (shown := log_line(name, line)) is not None:
            click.echo(shown)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _StopState:
    """Whether a stop signal came, and whether one may unwind the main thread right now."""

    requested = False
    starting_child = False


_stop_state = _StopState()


def _start(
    name: str, args: list[str], env: dict[str, str], processes: list[subprocess.Popen]
) -> subprocess.Popen:
    """Start a child and record it in `processes`; a stop signal meanwhile waits until then.

    (Blocking the signals instead would not do: a child inherits the signal mask through exec,
    and would then never see the SIGTERM that stops it.)
    """
    _stop_state.starting_child = True
    try:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "service.cli", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,  # Ctrl-C reaches us only; we stop the children in order
        )
        processes.append(process)
    finally:
        _stop_state.starting_child = False
    threading.Thread(target=_pipe, args=(name, process), daemon=True).start()
    if _stop_state.requested:
        raise KeyboardInterrupt
    return process


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()


def _first_user(mock: str) -> str:
    """A demo user of the mock for the "try it" block."""
    users = httpx.get(f"{mock}/_mock/users", timeout=5).json()
    users = users.get("users", users) if isinstance(users, dict) else users
    return users[0]["user_id"] if users else "2088000000000001"


def _interrupt(*_args: object) -> None:
    """The first stop signal: ignore the others from now on, and unwind to the stop."""
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, signal.SIG_IGN)
    _stop_state.requested = True
    if not _stop_state.starting_child:
        raise KeyboardInterrupt


def run_dev(*, api_port: int, mock_port: int) -> None:
    """Prepare instance/ and supervise the three processes until Ctrl-C or one of them exits."""
    api, mock = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{mock_port}"
    env = {
        **os.environ,
        "MINIFIN_PROFILE": "dev",
        "MINIFIN_INSTANCE_DIR": str(
            Path(os.environ.get("MINIFIN_INSTANCE_DIR", "instance")).resolve()
        ),
        "MINIFIN_GATEWAY_URL": f"{mock}/gateway.do",
        "MINIFIN_MOCK_IDP_URL": mock,
        "MINIFIN_PUBLIC_URL": api,
        "PYTHONUNBUFFERED": "1",
    }
    instance_dir = Path(env["MINIFIN_INSTANCE_DIR"])
    # The children run in their own sessions (so Ctrl-C reaches only us); every stop signal
    # must stop them too, SIGINT included even when it was ignored when we started.
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, _interrupt)
    log_like_children()
    prepare_instance(instance_dir)
    settings = load_settings(env)
    migrate_database(settings)
    if seeded := seed_demo_templates(settings):
        say(f"seeded {seeded} demo voucher templates")
    processes: list[subprocess.Popen] = []
    try:
        mock_process = _start(
            "mock-idp",
            ["mock-idp", "--port", str(mock_port), "--data-dir", str(instance_dir / "mock-idp")],
            env,
            processes,
        )
        _wait_until_up(f"{mock}/_mock/platform-key", mock_process)
        register_with_mock(settings)
        api_process = _start(
            "api",
            ["run", "--host", "127.0.0.1", "--port", str(api_port), "--no-reload", "--no-debugger"],
            env,
            processes,
        )
        _start("worker", ["worker"], env, processes)
        _wait_until_up(f"{api}/healthz", api_process)
        click.echo(try_it_text(settings.app_id, user_id=_first_user(mock), api=api, mock=mock))
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        say("a process exited; stopping the others")
    except KeyboardInterrupt:
        click.echo()
        say("stopping…")
    finally:
        _stop(processes)
