"""`alipay.open.app.mini.templatemessage.send`: a template message into a user's inbox.

`data` arrives as a JSON string or an object, `{"keyword1": {"value": "…"}, …}`. The method has
no idempotency key (reference §6): every accepted send is delivered, a retried one again, and an
unknown parameter such as `out_biz_no` is accepted and ignored, as the platform does.
"""

from __future__ import annotations

from typing import Any

from service.mock_idp.grants import user_of_open_id
from service.mock_idp.inbox import TemplateMessage, deliver_message
from service.mock_idp.parameters import nested_object, parameter_refusal, text_parameter
from service.mock_idp.protocol import GatewayCall, GatewayError, GatewayMethod

MAX_DATA_KEYWORDS = 20
PARAMETERS = frozenset({"to_user_id", "to_open_id", "user_template_id", "page", "data", "form_id"})


def _recipient(call: GatewayCall) -> str:
    """The user from `to_user_id`, or from `to_open_id` as this app knows them."""
    user_id = text_parameter(call.biz, "to_user_id", max_length=28, required=False)
    open_id = text_parameter(call.biz, "to_open_id", max_length=128, required=False)
    if user_id is not None:
        found: str | None = user_id
    elif open_id is not None:
        found = user_of_open_id(call.store, call.app.app_id, open_id)
    else:
        raise parameter_refusal("缺少必选参数 to_user_id 或 to_open_id", missing=True)
    if found is None or call.store.get_user(found) is None:
        raise GatewayError("40004", "USER_NOT_EXIST", "消息接收用户不存在")
    return found


def _template_data(call: GatewayCall) -> dict[str, Any]:
    """`{"keyword1": {"value": "…"}, …}`: every keyword an object holding a string value."""
    data = nested_object(call.biz, "data", required=True)
    if not data or len(data) > MAX_DATA_KEYWORDS:
        raise parameter_refusal(f"data 须有 1 到 {MAX_DATA_KEYWORDS} 个关键词")
    for keyword, entry in data.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("value"), str):
            raise parameter_refusal(f'data.{keyword} 应为 {{"value": "…"}}')
    return data


def template_message_send(call: GatewayCall) -> dict[str, Any]:
    """Deliver the message (every time it is sent); success carries no business fields."""
    # Keyword arguments run in order: parameters are checked before the recipient is looked up.
    message = TemplateMessage(
        app_id=call.app.app_id,
        user_template_id=text_parameter(call.biz, "user_template_id", max_length=64),
        page=text_parameter(call.biz, "page", max_length=128),
        data=_template_data(call),
        form_id=text_parameter(call.biz, "form_id", max_length=64),
        ignored=tuple(sorted(set(call.biz) - PARAMETERS)),
        user_id=_recipient(call),
    )
    deliver_message(call.store, message, call.now)
    return {}


METHODS = (GatewayMethod("alipay.open.app.mini.templatemessage.send", template_message_send),)
