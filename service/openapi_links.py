"""OpenAPI links: which answer's fields lead to which operation, written once for the document.

A client generator reads them to chain calls (the gift a purchase created is the one to fetch,
reschedule or cancel); the stateful fuzzing gate (tests/api/test_generated_request_sequences.py)
follows them to get past the first POST into every sub-resource. Targets are named by
`operationRef` (a JSON pointer into `paths`), so the table does not depend on operation ids.
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin

Link = tuple[str, str, str, dict[str, Any]]  # name, target path, target method, what to carry

_ID = "$response.body#/id"
_FIRST = "$response.body#/data/0/id"  # the first row of a list's page: the newest

# (source path, source method, status) → the links its answer offers
# fmt: off
LINKS: dict[tuple[str, str, str], list[Link]] = {
    ("/v1/voucher-templates", "post", "201"): [
        ("GetTemplate", "/v1/voucher-templates/{template_id}", "get", {"template_id": _ID}),
        ("UpdateTemplate", "/v1/voucher-templates/{template_id}", "patch", {"template_id": _ID}),
        ("BuyOneAsLinkGift", "/v1/gifts", "post", {"requestBody": {
            "template_id": _ID, "cover": "$response.body#/covers/0/name", "quantity": 1,
            "recipient": {"link": True}}}),
    ],
    ("/v1/gifts", "post", "201"): [
        ("GetGift", "/v1/gifts/{gift_id}", "get", {"gift_id": _ID}),
        ("RescheduleGift", "/v1/gifts/{gift_id}", "patch", {"gift_id": _ID}),
        ("CancelGift", "/v1/gifts/{gift_id}/cancel", "post", {"gift_id": _ID}),
    ],
    ("/v1/voucher-templates", "get", "200"): [
        ("UpdateFirstTemplate", "/v1/voucher-templates/{template_id}", "patch",
         {"template_id": _FIRST}),
    ],
    ("/v1/gifts", "get", "200"): [
        ("GetNewestGift", "/v1/gifts/{gift_id}", "get", {"gift_id": _FIRST}),
        ("RescheduleNewestGift", "/v1/gifts/{gift_id}", "patch", {"gift_id": _FIRST}),
        ("CancelNewestGift", "/v1/gifts/{gift_id}/cancel", "post", {"gift_id": _FIRST}),
    ],
    ("/v1/credit/deposits", "get", "200"): [
        ("GetNewestDeposit", "/v1/credit/deposits/{deposit_id}", "get", {"deposit_id": _FIRST}),
    ],
    ("/v1/identity/verifications", "post", "201"): [
        ("GetVerification", "/v1/identity/verifications/{verification_id}", "get",
         {"verification_id": _ID}),
        ("CancelVerification", "/v1/identity/verifications/{verification_id}/cancel", "post",
         {"verification_id": _ID}),
    ],
    ("/v1/credit/consents", "post", "201"): [
        ("GetConsent", "/v1/credit/consents/{consent_id}", "get", {"consent_id": _ID}),
        ("WithdrawConsent", "/v1/credit/consents/{consent_id}", "delete", {"consent_id": _ID}),
    ],
    ("/v1/credit/deposits", "post", "201"): [
        ("GetDeposit", "/v1/credit/deposits/{deposit_id}", "get", {"deposit_id": _ID}),
        ("ReleaseDeposit", "/v1/credit/deposits/{deposit_id}/release", "post",
         {"deposit_id": _ID}),
        ("ChargeDeposit", "/v1/credit/deposits/{deposit_id}/charges", "post",
         {"deposit_id": _ID}),
    ],
    ("/v1/me", "get", "200"): [
        ("GetUserIdentity", "/v1/users/{user_id}/identity", "get", {"user_id": _ID}),
        ("CheckUserCredit", "/v1/users/{user_id}/credit/checks", "post", {"user_id": _ID}),
        ("ListUserCreditChecks", "/v1/users/{user_id}/credit/checks", "get", {"user_id": _ID}),
        ("ScoreUser", "/v1/users/{user_id}/credit/score", "post", {"user_id": _ID}),
    ],
    ("/v1/sessions", "post", "201"): [
        ("RefreshSession", "/v1/sessions/refresh", "post",
         {"requestBody": {"refresh_token": "$response.body#/refresh_token"}}),
    ],
}
# fmt: on


def operation_ref(path: str, method: str) -> str:
    """The JSON pointer to an operation (RFC 6901: `~` is `~0`, `/` is `~1`)."""
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method


def link_object(target_path: str, target_method: str, carried: dict[str, Any]) -> dict[str, Any]:
    """One OpenAPI Link Object: path parameters by name, a request body under `requestBody`."""
    link: dict[str, Any] = {"operationRef": operation_ref(target_path, target_method)}
    parameters = {name: value for name, value in carried.items() if name != "requestBody"}
    if parameters:
        link["parameters"] = parameters
    if "requestBody" in carried:
        link["requestBody"] = carried["requestBody"]
    return link


class LinksPlugin(BasePlugin):
    """An apispec plugin that adds `LINKS` to the responses of the operations they start from."""

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        for method, operation in (operations or {}).items():
            for (source, source_method, status), links in LINKS.items():
                if source != path or source_method != method:
                    continue
                responses = operation.setdefault("responses", {})
                key = next((k for k in responses if str(k) == status), status)
                response = responses.setdefault(key, {})
                response["links"] = {
                    name: link_object(target, target_method, carried)
                    for name, target, target_method, carried in links
                }
