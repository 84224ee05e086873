"""`/_mock/certifications`: see and finish face verifications from tests, without a browser.

Completing here forces the outcome, even for a name and number that match no user: it is a test
hook for reaching any state. The face-scan page's buttons follow the rules instead
(certify_page.py). A certification finishes once; completing it again is a 409.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, jsonify

from service.mock_idp.certifications import (
    FACE_NOT_MATCH,
    Certification,
    Outcome,
    finish_certification,
    get_certification,
)
from service.mock_idp.control import ControlError, json_object
from service.mock_idp.runtime import current_store

certifications_control_blueprint = Blueprint(
    "mock_control_certifications", __name__, url_prefix="/_mock"
)
MAX_REASON_LENGTH = 256


@certifications_control_blueprint.errorhandler(ControlError)
def _control_error(error: ControlError) -> tuple[Response, int]:
    return jsonify(error=error.error, detail=error.detail), error.status


def _existing(certify_id: str) -> Certification:
    certification = get_certification(current_store(), certify_id)
    if certification is None:
        raise ControlError(404, "certification_not_found", f"no certification {certify_id!r}")
    return certification


@certifications_control_blueprint.get("/certifications/<certify_id>")
def show_certification(certify_id: str) -> Response:
    """A certification: who it names, the matched user, its state and outcome."""
    return jsonify(_existing(certify_id).to_json())


@certifications_control_blueprint.post("/certifications/<certify_id>/complete")
def complete(certify_id: str) -> Response:
    """Finish with `{"passed": bool, "fail_reason"?}`; 409 when it has already finished."""
    _existing(certify_id)
    body = json_object()
    passed = body.get("passed")
    if not isinstance(passed, bool):
        raise ControlError(400, "invalid_passed", "passed must be true or false")
    reason = body.get("fail_reason")
    if passed and reason is not None:
        raise ControlError(400, "invalid_fail_reason", "a passed certification has no fail_reason")
    if reason is not None and not (
        isinstance(reason, str) and 0 < len(reason) <= MAX_REASON_LENGTH
    ):
        raise ControlError(
            400, "invalid_fail_reason", f"fail_reason must be 1-{MAX_REASON_LENGTH} characters"
        )
    outcome = Outcome(passed, None if passed else reason or FACE_NOT_MATCH)
    finished = finish_certification(current_store(), certify_id, outcome, time.time())
    if finished is None:
        raise ControlError(409, "certification_finished", "the certification has already finished")
    return jsonify(finished.to_json())
