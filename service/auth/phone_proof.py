"""A user proves their mobile number with `my.getPhoneNumber`'s signed, encrypted answer.

The platform gives the number to apps that are not privileged only this way (spec §9). The
answer's signature is checked with the platform's key, it is decrypted with the app's AES key
(`service.gateway.phone_number`), and the number is kept only as the user's `phone_hash`, the
keyed digest phone gifts are addressed by (`phones.phone_index`): never in clear, and shown
masked.

Binding to the logged-in user. The answer names nobody: it is the same ciphertext for the same
number in the same app (a zero IV), so a stolen or replayed answer would prove someone else's
number. Minifin therefore refuses a number that already belongs to another user of the app
(`phone_bound_to_another_user`, 409): the first user to prove a number keeps it, a replay of
their answer by anyone else is refused, and nothing is stored. A person who really changed
accounts asks support to release the number (there is no self-service move). The check and the
write are one conditional UPDATE, so two users racing for one number cannot both get it on
SQLite; on PostgreSQL a near-simultaneous pair may, which gives both only the claim to gifts
sent to a number each of them was handed by the platform.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import exists, update
from sqlalchemy.orm import aliased

from service.auth.models import User
from service.auth.phones import normalised_phone, phone_index
from service.components import gateway, settings
from service.errors import Conflict, DomainError, InvalidRequest, ServiceUnavailable
from service.extensions import db
from service.gateway import phone_number
from service.security.masking import mask_phone
from service.sql import rows_changed

_PROBLEM_CODES = {
    phone_number.MALFORMED: "phone_answer_malformed",
    phone_number.SIGNATURE: "phone_signature_invalid",
    phone_number.DECRYPTION: "phone_decryption_failed",
}


class PhoneRefusedByPlatform(DomainError):
    """The platform's answer is an error (`40003 isv.invalid-auth-relations`, …)."""

    status, code, title = 422, "phone_refused_by_platform", "The platform gave no phone number"


def prove_phone(user_id: str, payload: Mapping[str, Any]) -> dict[str, str]:
    """Verify, decrypt and bind the number to the user; answers it masked. Commits."""
    if gateway().content_key is None:
        raise ServiceUnavailable(
            "Phone numbers need the app's AES key (MINIFIN_APP_AES_KEY).",
            code="phone_not_configured",
        )
    try:
        mobile = phone_number.verified_mobile(gateway(), phone_number.handed_answer(payload))
    except phone_number.PhoneAnswerError as exc:
        raise _problem(exc) from None
    number = normalised_phone(mobile)
    digest = phone_index(mobile)
    if number is None or digest is None:
        raise InvalidRequest(
            "The platform's number is not a mainland mobile.", code="phone_invalid"
        )
    other = aliased(User)
    taken = exists().where(
        other.app_id == settings().app_id, other.phone_hash == digest, other.id != user_id
    )
    bound = rows_changed(
        update(User)
        .where(User.id == user_id, ~taken)
        .values(phone_hash=digest)
        .execution_options(synchronize_session=False)
    )
    if not bound:
        db.session.rollback()
        raise Conflict(
            "This number is already proven by another account of this app.",
            code="phone_bound_to_another_user",
        )
    db.session.commit()
    return {"phone": mask_phone(number)}


def _problem(error: phone_number.PhoneAnswerError) -> DomainError:
    if error.reason == phone_number.REFUSED:
        return PhoneRefusedByPlatform(
            f"The platform answered {error.code} {error.sub_code}: {error.detail}",
            errors={"code": [error.code], "subcode": [error.sub_code]},
        )
    return InvalidRequest(
        f"The phone answer was refused: {error.detail}.", code=_PROBLEM_CODES[error.reason]
    )
