"""Real-name authentication: verification attempts, your identity, erasure, merchant reads."""

from __future__ import annotations

from flask import g, request
from flask_smorest import Blueprint

from schemas.identity import (
    IdentityEventListQuerySchema,
    IdentityEventPageSchema,
    IdentitySchema,
    VerificationCreateSchema,
    VerificationSchema,
)
from service.auth.decorators import client_required, user_required
from service.idempotency import idempotent
from service.identity import identities, verifications
from service.identity.audit import Actor
from service.openapi import problems

blp = Blueprint(
    "identity", __name__, url_prefix="/v1", description="Real-name authentication by face scan."
)


def _actor(principal_id: str) -> Actor:
    return Actor(principal_id, request.remote_addr)


@blp.route("/identity/verifications", methods=["POST"])
@user_required
@idempotent(required=True)
@blp.arguments(VerificationCreateSchema)
@blp.response(201, VerificationSchema)
@problems(blp, 400, 401, 409, 413, 415, 422, 429, 502, 503)
def start_verification(body):
    """Start a face verification; send the user to `certify_url` (consent must be `true`).

    Checks the name and resident ID number first (the check character, a real birth date, a
    region), then starts the platform's face verification
    (`alipay.user.certify.open.initialize`). The name and number are sealed, never stored
    readable, and the answer shows them masked. Limited to `MINIFIN_IDENTITY_ATTEMPTS_PER_DAY`
    attempts a day.
    """
    return verifications.start_verification(
        _actor(g.user.id), body, request.headers["Idempotency-Key"]
    )


@blp.route("/identity/verifications/<verification_id>", methods=["GET"])
@user_required
@blp.response(200, VerificationSchema)
@problems(blp, 401, 404, 502, 503)
def get_verification(verification_id):
    """One of your attempts, brought up to date from the platform while it is pending.

    A pending attempt is asked about at the platform (`alipay.user.certify.open.query`), since
    the browser coming back proves nothing; it ends `passed`, `failed` (with `fail_reason`),
    `expired` or `canceled`.
    """
    return verifications.verification_for(_actor(g.user.id), verification_id)


@blp.route("/identity/verifications/<verification_id>/cancel", methods=["POST"])
@user_required
@blp.response(200, VerificationSchema)
@problems(blp, 401, 404, 409)
def cancel_verification(verification_id):
    """Give up a pending attempt; the name and number it held are erased at once.

    Only a pending attempt can be canceled; it is recorded in the user's identity events.
    """
    return verifications.cancel_verification(_actor(g.user.id), verification_id)


@blp.route("/identity", methods=["GET"])
@user_required
@blp.response(200, IdentitySchema)
@problems(blp, 401)
def get_identity():
    """Your verified identity, masked, with the birth date and whether you are an adult.

    `verified` tells whether a face verification passed for you; the name and ID number are
    masked, and the birth date and adulthood are computed from the number when asked.
    """
    return identities.identity_of(g.user.id)


@blp.route("/identity", methods=["DELETE"])
@user_required
@blp.response(200, IdentitySchema)
@problems(blp, 401)
def erase_identity():
    """Erase your identity data now; a record that it happened is kept, without the data.

    Removes the sealed name and number and the lookup hash at once, and cancels pending
    attempts; you read as unverified afterwards. The identity events stay, without the data.
    """
    return identities.erase_identity(_actor(g.user.id))


@blp.route("/identity/events", methods=["GET"])
@user_required
@blp.arguments(IdentityEventListQuerySchema, location="query")
@blp.response(200, IdentityEventPageSchema)
@problems(blp, 401, 422)
def list_identity_events(query):
    """How your identity data was processed: each attempt, outcome, read and erasure.

    Your record of processing, newest first: who did what and when, from where. Never the data
    itself; kept after erasure.
    """
    return identities.events_for(g.user.id, **query)


@blp.route("/users/<user_id>/identity", methods=["GET"])
@client_required("identity:read")
@blp.response(200, IdentitySchema)
@problems(blp, 401, 403, 404)
def get_user_identity(user_id):
    """A user's identity, masked (merchant client with `identity:read`); the read is audited.

    The same masked view the user has of their own identity. Every read is recorded in the
    user's identity events with the client that made it.
    """
    return identities.identity_for_client(_actor(g.client.id), user_id)
