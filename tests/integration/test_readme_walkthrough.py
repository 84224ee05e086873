"""The README's walkthrough, run as a new user would: its bash blocks pasted in order into one
shell against a live `minifin dev`.

Every ```bash block between the `## Walkthrough` heading and the next `##` heading is run, in
order, in ONE bash process (so the variables a block sets reach the blocks after it) with
`set -euo pipefail`: a command that fails, a `curl -f` that gets an error answer, a variable never
set, or an answer that lacks the member the next command reads (`field` exits non-zero) stops the
run and fails the test, naming the block. `minifin dev` runs on free ports in its own directory
(its own instance/ and SQLite database), and `.venv/bin/minifin` there is this interpreter's
`minifin`, as in a clone with the README's virtualenv.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.test_dev_command import REPO, DevRun, _free_port

README = REPO / "README.md"
WALKTHROUGH = "## Walkthrough"
BASH_BLOCK = re.compile(r"^```bash\n(.*?)^```$", re.S | re.M)
FLOWS = {  # what each flow of the walkthrough must still show (a path or a command it runs)
    "login": "/v1/sessions", "refresh": "/v1/sessions/refresh", "logout": "/v1/sessions/current",
    "merchant client": "minifin clients create", "client token": "/v1/oauth/token",
    "templates": "/v1/voucher-templates", "pages": "&cursor=", "gift bought": "/v1/gifts",
    "gift paid": "/_mock/trades/", "gift claimed": "/v1/claims/", "wallet": "/v1/vouchers",
    "phone proven": "/v1/me/phone", "phone answer": "/_mock/phone-number",
    "redeemed": "/redemptions", "canceled": "/cancel", "identity": "/v1/identity/verifications",
    "face scan": "/_mock/certifications/", "consents": "/v1/credit/consents",
    "deposit waiver consent": "consent deposit_waiver", "credit check": "/v1/credit/checks",
    "deposit": "/v1/credit/deposits", "freeze": "/_mock/fund-auth/confirm",
    "release": "/release", "charge": "/charges",
}  # fmt: skip


def walkthrough_blocks(readme: str) -> list[str]:
    """The bash blocks of the README's walkthrough section, in order."""
    start = readme.index(f"\n{WALKTHROUGH}\n")
    end = readme.find("\n## ", start + len(WALKTHROUGH) + 1)
    return BASH_BLOCK.findall(readme[start : end if end != -1 else None])


def walkthrough_script(blocks: list[str]) -> str:
    """One bash script: strict mode, then each block after a line that says which it is."""
    lines = [
        "set -euo pipefail",
        "shopt -s inherit_errexit",
        'trap \'echo "README walkthrough block $BLOCK failed (line $LINENO)" >&2\' ERR',
    ]
    for number, block in enumerate(blocks, start=1):
        lines += [f"BLOCK={number}", f"echo '--- block {number}' >&2", block]
    return "\n".join(lines) + "\n"


def _venv_minifin(workdir: Path) -> None:
    """`.venv/bin/minifin` in the work directory, running this checkout's `minifin`."""
    bin_dir = workdir / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    wrapper = bin_dir / "minifin"
    wrapper.write_text(
        f'#!/bin/sh\nPYTHONPATH="{REPO}" exec "{sys.executable}" -m service.cli "$@"\n'
    )
    wrapper.chmod(0o755)


def test_the_walkthrough_covers_every_flow_with_nothing_a_fresh_debian_lacks():
    blocks = walkthrough_blocks(README.read_text(encoding="utf-8"))
    text = "\n".join(blocks)
    missing = [flow for flow, mark in FLOWS.items() if mark not in text]
    assert not missing, f"the walkthrough no longer shows: {missing}"
    for tool in ("jq", "uuidgen"):  # not on a fresh Debian
        assert not re.search(rf"\b{tool}\b", text), f"the walkthrough uses {tool}"
    assert "127.0.0.1:5000" not in text.replace("API=${API:-http://127.0.0.1:5000}", "")


@pytest.mark.skipif(not Path("/bin/bash").exists(), reason="needs bash")
def test_the_readme_walkthrough_runs_against_minifin_dev(tmp_path):
    blocks = walkthrough_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 15, f"only {len(blocks)} walkthrough blocks"
    script = tmp_path / "walkthrough.sh"
    script.write_text(walkthrough_script(blocks), encoding="utf-8")
    _venv_minifin(tmp_path)
    api_port, mock_port = _free_port(), _free_port()
    dev = DevRun(tmp_path, api_port, mock_port)
    try:
        dev.wait_for("Ctrl-C stops everything")
        dev.wait_for("started (sources:")  # the worker sends gifts and refunds
        env = {k: v for k, v in os.environ.items() if not k.startswith("MINIFIN_")}
        env |= {"API": f"http://127.0.0.1:{api_port}", "MOCK": f"http://127.0.0.1:{mock_port}"}
        run = subprocess.run(
            ["/bin/bash", str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
            timeout=300, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    finally:
        assert dev.interrupt() == 0
    ran = run.stderr.count("--- block ")
    assert run.returncode == 0, (
        f"ran {ran} of {len(blocks)} blocks\n--- stderr\n{run.stderr[-6000:]}"
        f"\n--- stdout\n{run.stdout[-3000:]}"
    )
    assert ran == len(blocks)
    print(f"the README walkthrough ran {ran} blocks")
