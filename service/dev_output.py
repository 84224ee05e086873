"""What `minifin dev` prints: one readable stream from three processes and itself.

Every line, a child's or its own, starts with the time and the process's name
(`01:04:47.254      api | …`): a child's own log timestamp (Minifin's log format) is moved
there, and a line without one (werkzeug's `* Running on`, the mock's access log) gets the time it
arrived, so lines from different processes can be read in order. werkzeug's "This is a development
server" banner is left out: it came as an INFO line saying WARNING, once per child, and the
"Minifin is running" block says it once, in its own words. The "try it" block is printed bare,
for copying into a shell.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime

import click

_COLOURS = {"api": "green", "mock-idp": "magenta", "worker": "cyan"}
_LOGGED_AT = re.compile(
    r"^\d{4}-\d\d-\d\d (?P<time>\d\d:\d\d:\d\d),(?P<ms>\d{3}) (?P<rest>.*)$", re.S
)
_DEV_SERVER_NOISE = (  # werkzeug's and Flask's start-up lines, said once by "Minifin is running"
    "WARNING: This is a development server.",
    "Press CTRL+C to quit",
    " * Debug mode: ",
    " * Serving Flask app ",
)


def log_line(name: str, line: str, now: datetime | None = None) -> str | None:
    """A line of a process's output as `minifin dev` shows it, or None for start-up noise.

    `HH:MM:SS.mmm     name | text`: the time is the line's own log timestamp when it has one,
    else `now` (when it arrived).
    """
    text = line.rstrip("\n")
    if logged := _LOGGED_AT.match(text):
        stamp, text = f"{logged['time']}.{logged['ms']}", logged["rest"]
    else:
        stamp = (now or datetime.now()).strftime("%H:%M:%S.%f")[:-3]
    if any(noise in text for noise in _DEV_SERVER_NOISE):
        return None
    return f"{stamp} {click.style(f'{name:>8} |', fg=_COLOURS.get(name))} {text}"


def say(text: str) -> None:
    """A line of `minifin dev`'s own, in the same shape as its children's."""
    for part in text.splitlines():
        click.echo(log_line("dev", part))


class _DevFormatter(logging.Formatter):
    """A record of this process as `log_line` shows a child's: each of its lines prefixed."""

    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created)
        lines = (log_line("dev", line, at) for line in super().format(record).splitlines())
        return "\n".join(line for line in lines if line is not None)


def log_like_children() -> None:
    """This process's own log records (migrations, seeding) with the same time and name prefix.

    Called before the first app is built, so the app factory's `basicConfig` finds a handler and
    leaves it alone.
    """
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_DevFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])


def try_it_text(app_id: str, *, user_id: str, api: str, mock: str) -> str:
    """The block printed once everything is up: where things are, and a login to paste."""
    body = json.dumps({"app_id": app_id, "user_id": user_id, "scopes": ["auth_user"]})
    read = "python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])'"
    return f"""
  Minifin is running (development servers: for production see the README, Production).
    API                        {api}   (docs: {api}/docs, spec: {api}/openapi.json)
    mock identity provider     {mock}   (users: {mock}/_mock/users)
    worker                     polling the database

  Try it: a demo user logs in (paste into bash).
    CODE=$(curl -fsS -X POST {mock}/_mock/auth-codes -H 'Content-Type: application/json' \\
      -d '{body}' | {read} auth_code)
    ACCESS=$(curl -fsS -X POST {api}/v1/sessions -H 'Content-Type: application/json' \\
      -d "{{\\"auth_code\\": \\"$CODE\\"}}" | {read} access_token)
    curl -fsS {api}/v1/me -H "Authorization: Bearer $ACCESS"; echo
  The README's walkthrough goes on from there, with API={api} MOCK={mock}
  Or log in in a browser: {mock}/oauth2/publicAppAuthorize.htm?app_id={app_id}\
&scope=auth_user&redirect_uri={api}/healthz&state=demo

  Ctrl-C stops everything.
"""
