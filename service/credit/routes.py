"""Credit authorisation: consents (users), admittance checks (users and merchant clients),
deposit waivers (users start them, merchant clients settle them)."""

from __future__ import annotations

from flask import g, request
from flask_smorest import Blueprint

from schemas.credit import (
    ChargeSchema,
    CheckCreateSchema,
    CheckListQuerySchema,
    CheckPageSchema,
    CheckSchema,
    ConsentCreateSchema,
    ConsentListQuerySchema,
    ConsentPageSchema,
    ConsentSchema,
    ConsentWithEventsSchema,
    DepositCreateSchema,
    DepositListQuerySchema,
    DepositPageSchema,
    DepositSchema,
    ReleaseSchema,
    ScoreRequestSchema,
    ScoreSchema,
)
from service.auth.decorators import client_required, user_or_client_required, user_required
from service.credit import checks, consents, deposits
from service.errors import InvalidRequest
from service.idempotency import HEADER, idempotent, key_parameter
from service.identity.audit import Actor
from service.openapi import problems

blp = Blueprint(
    "credit", __name__, url_prefix="/v1",
    description="Credit authorisation: consents, admittance checks and deposit waivers.",
)  # fmt: skip


def _actor(principal_id: str) -> Actor:
    return Actor(principal_id, request.remote_addr)


@blp.route("/credit/consents", methods=["POST"])
@user_required
@idempotent(required=False)
@blp.arguments(ConsentCreateSchema)
@blp.response(201, ConsentSchema)
@problems(blp, 400, 401, 403, 413, 415, 422, 502, 503)
def grant_consent(body):
    """Record your consent for one purpose, with a code from `my.getAuthCode` (`auth_zhima`).

    `purpose` is one of `MINIFIN_CREDIT_PURPOSES`; `scopes` is what `my.getAuthCode` reported
    granted and must include `auth_zhima`. The consent keeps its evidence (the platform's grant,
    the policy version) and replaces an earlier consent for the same purpose.
    """
    return consents.grant_consent(_actor(g.user.id), body, request.headers.get(HEADER))


@blp.route("/credit/consents", methods=["GET"])
@user_required
@blp.arguments(ConsentListQuerySchema, location="query")
@blp.response(200, ConsentPageSchema)
@problems(blp, 401, 422)
def list_consents(query):
    """Your credit consents, newest first.

    Active, withdrawn and expired consents, each with its purpose and policy version.
    """
    return consents.consents_of(g.user.id, **query)


@blp.route("/credit/consents/<consent_id>", methods=["GET"])
@user_required
@blp.response(200, ConsentWithEventsSchema)
@problems(blp, 401, 404)
def get_consent(consent_id):
    """One consent with everything done under it.

    Every use of the consent is listed: granted, used for a check or a deposit, withdrawn.
    """
    return consents.consent_with_events(g.user.id, consent_id)


@blp.route("/credit/consents/<consent_id>", methods=["DELETE"])
@user_required
@blp.response(200, ConsentWithEventsSchema)
@problems(blp, 401, 404)
def withdraw_consent(consent_id):
    """Withdraw a consent, at once: later checks and deposits under it are refused.

    Later checks and deposits under it are refused with `consent_withdrawn`; what was done under
    it before stays recorded.
    """
    return consents.withdraw_consent(_actor(g.user.id), consent_id)


@blp.route("/credit/checks", methods=["POST"])
@user_required
@idempotent(required=True)
@blp.arguments(CheckCreateSchema)
@blp.response(201, CheckSchema)
@problems(blp, 400, 401, 403, 404, 409, 413, 415, 422, 502, 503)
def run_own_check(body):
    """Does your credit clear the threshold? Needs your consent and a verified identity.

    Asks the platform (`zhima.credit.score.brief.get`) whether your credit clears the threshold;
    the score itself is never received. `admitted` is true, false, or null when the platform
    cannot evaluate you, with an explanation in plain words. Needs an `Idempotency-Key`.
    """
    return checks.run_check(_actor(g.user.id), g.user.id, body, request.headers[HEADER])


@blp.route("/credit/checks", methods=["GET"])
@user_required
@blp.arguments(CheckListQuerySchema, location="query")
@blp.response(200, CheckPageSchema)
@problems(blp, 401, 422)
def list_own_checks(query):
    """Every check of your credit: who asked, for what, and the outcome.

    Your own checks and those merchant clients ran, newest first, each with who asked.
    """
    return checks.checks_of(g.user.id, **query)


@blp.route("/users/<user_id>/credit/checks", methods=["POST"])
@client_required("credit:check")
@idempotent(required=True)
@blp.arguments(CheckCreateSchema)
@blp.response(201, CheckSchema)
@problems(blp, 400, 401, 403, 404, 409, 413, 415, 422, 502, 503)
def run_check_for_user(body, user_id):
    """Check a consenting user's credit (merchant client with `credit:check`).

    The same check the user can run, on their consent for the purpose and their verified
    identity, recorded as asked by this client. Needs an `Idempotency-Key`.
    """
    return checks.run_check(_actor(g.client.id), user_id, body, request.headers[HEADER])


@blp.route("/users/<user_id>/credit/checks", methods=["GET"])
@client_required("credit:check")
@blp.arguments(CheckListQuerySchema, location="query")
@blp.response(200, CheckPageSchema)
@problems(blp, 401, 403, 404, 422)
def list_checks_of_user(query, user_id):
    """A user's credit checks (merchant client with `credit:check`).

    Every check of that user's credit, by anyone, newest first.
    """
    return checks.checks_of(user_id, **query)


@blp.route("/users/<user_id>/credit/score", methods=["POST"])
@client_required("credit:check")
@blp.arguments(ScoreRequestSchema)
@blp.response(200, ScoreSchema, headers={"Cache-Control": {"schema": {"type": "string"}}})
@blp.doc(parameters=[key_parameter(True, "Names the platform transaction; nothing is replayed.")])
@problems(blp, 400, 401, 403, 404, 409, 413, 415, 422, 502, 503)
def read_raw_score(body, user_id):
    """The legacy raw score, where the platform granted it and Minifin is configured to.

    Answered to this client only and never stored; `Idempotency-Key` names the platform
    transaction (nothing of the answer is kept for replay).
    """
    key = request.headers.get(HEADER, "").strip()
    if not key:
        raise InvalidRequest(f"Send an {HEADER} header.", code="idempotency_key_required")
    disclosure = checks.disclose_raw_score(_actor(g.client.id), user_id, body["purpose"], key)
    return disclosure, 200, {"Cache-Control": "no-store"}


@blp.route("/credit/deposits", methods=["POST"])
@user_required
@idempotent(required=True)
@blp.arguments(DepositCreateSchema)
@blp.response(201, DepositSchema)
@problems(blp, 400, 401, 403, 409, 413, 415, 422)
def start_deposit(body):
    """Start a deposit your credit may waive; pass `order_str` to `my.tradePay`.

    Rests on your `deposit_waiver` consent. Answers the signed `order_str` for `my.tradePay`;
    once you confirm, the platform waives what your credit covers and freezes the rest, and the
    deposit is `held`. Needs an `Idempotency-Key`.
    """
    return deposits.start_deposit(_actor(g.user.id), body, request.headers[HEADER])


@blp.route("/credit/deposits", methods=["GET"])
@user_required
@blp.arguments(DepositListQuerySchema, location="query")
@blp.response(200, DepositPageSchema)
@problems(blp, 401, 422)
def list_deposits(query):
    """Your deposits, newest first, each with its ledger.

    Every deposit you started, with its status, the waived and frozen parts, and its ledger of
    operations.
    """
    return deposits.deposits_of(g.user.id, **query)


@blp.route("/credit/deposits/<deposit_id>", methods=["GET"])
@user_or_client_required("deposits:settle")
@blp.response(200, DepositSchema)
@problems(blp, 401, 403, 404)
def get_deposit(deposit_id):
    """A deposit with its ledger (your own, or any for a client with `deposits:settle`).

    The ledger lists the freeze, every release and every charge, with the credit/fund split and
    the platform's ids; lines are only ever added.
    """
    return deposits.deposit_for(g.user.id if g.user is not None else None, deposit_id)


@blp.route("/credit/deposits/<deposit_id>/release", methods=["POST"])
@client_required("deposits:settle")
@idempotent(required=True)
@blp.arguments(ReleaseSchema)
@blp.response(200, DepositSchema)
@problems(blp, 400, 401, 403, 404, 409, 413, 415, 422, 502, 503)
def release_deposit(body, deposit_id):
    """Release part of the hold, or all that remains (merchant client with `deposits:settle`).

    Gives back `amount_fen`, or all that remains when none is given
    (`alipay.fund.auth.order.unfreeze`). The amount is reserved before the platform is called,
    so releases and charges never exceed the hold. Needs an `Idempotency-Key`.
    """
    return deposits.release(
        _actor(g.client.id), deposit_id, body.get("amount_fen"), request.headers[HEADER]
    )


@blp.route("/credit/deposits/<deposit_id>/charges", methods=["POST"])
@client_required("deposits:settle")
@idempotent(required=True)
@blp.arguments(ChargeSchema)
@blp.response(201, DepositSchema)
@problems(blp, 400, 401, 403, 404, 409, 413, 415, 422, 502, 503)
def charge_deposit(body, deposit_id):
    """Charge against the hold; taking all that remains, or `settle`, ends the deposit.

    Takes payment against the hold (`alipay.trade.pay` with the `auth_no`); a charge of all that
    remains, or with `settle`, lets the platform release the rest. Needs an `Idempotency-Key`: a
    retry resends the same request number.
    """
    return deposits.charge(_actor(g.client.id), deposit_id, body, request.headers[HEADER])
