"""Schemathesis hooks for openapi.yaml: how to generate values of its three custom formats.

JSON Schema cannot say which phone numbers libphonenumber finds valid, how many SMS parts a text
takes, or the sender rule with its trimming, so the document names these rules as formats
(`phone-number`, `sms-text`, `sender-id`, each described where it is used) and this module
gives schemathesis a way to make values that follow them. Negative cases still come from the
schema's own keywords (type, length, pattern, unknown members); `tests/schemathesis.sh` loads
this module through SCHEMATHESIS_HOOKS.

A batch is the one place where the document, written for client generators, is stricter than
the API: it types `messages` as an array of messages, while the API checks each item on its own
and answers a bad one with its error in place (`202` when another item was accepted, `422` only
when none was; preview always `200`). So for this run the batch items are loosened to what the
API takes (any items; for sending, at least one valid message), and a check of our own holds
the API to the per-item promise: every item the document calls invalid is answered with an
error in its place.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema_rs
import schemathesis
from hypothesis import strategies as st

# Mobile prefixes whose every number of the given length libphonenumber finds valid, written
# the ways practice software writes them: national in the practice's region (DE), with 00 or +.
_MOBILE = st.one_of(
    st.tuples(st.sampled_from(["0151", "0152", "0157", "0171", "0176"]), st.from_regex(r"\A[1-9][0-9]{7}\Z")).map(
        lambda p: f"{p[0]} {p[1]}"
    ),
    st.tuples(st.sampled_from(["+49 176 ", "0049 151 ", "+49 (0) 171 "]), st.from_regex(r"\A[1-9][0-9]{7}\Z")).map(
        "".join
    ),
    st.tuples(st.sampled_from(["+43 664 ", "0043 676 ", "+41 79 "]), st.from_regex(r"\A[1-9][0-9]{6}\Z")).map(
        "".join
    ),
)

# What reminders are made of: GSM-7 letters and signs, umlauts, the extension table, and some
# characters that force UCS-2 (a tab, a typographic dash, an emoji, a cedilla).
_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;!?-+/()'\"@%&="
    "äöüÄÖÜßéè€[]{}\n\t–„“ç😀🦷"
)
# 300 characters of this alphabet never take more than 10 parts, even all emoji.
_TEXT = st.text(alphabet=_ALPHABET, min_size=1, max_size=300).filter(lambda t: t.strip() != "")

_SENDER = st.one_of(
    st.from_regex(r"\A[A-Za-z][A-Za-z0-9 ]{0,9}[A-Za-z0-9]\Z"),
    st.from_regex(r"\A[A-Za-z]\Z"),
    st.from_regex(r"\A\+?[0-9]{1,16}\Z"),
)

schemathesis.openapi.format("phone-number", _MOBILE)
schemathesis.openapi.format("sms-text", _TEXT)
schemathesis.openapi.format("sender-id", _SENDER)


BATCH_OPERATIONS = {("post", "/v1/messages"): True, ("post", "/v1/messages/preview"): False}
_message_schema: dict[str, Any] = {}


@schemathesis.hook
def before_load_schema(context: Any, raw_schema: dict[str, Any]) -> None:
    """Batch items as the API takes them: anything, each answered on its own; sending needs one
    valid message (else `422 all_messages_rejected`), preview none."""
    schemas = raw_schema["components"]["schemas"]
    _message_schema["schema"] = copy.deepcopy({"$defs": schemas, **schemas["SendRequest"]})
    for (method, path), needs_one in BATCH_OPERATIONS.items():
        name = "BatchSendRequestAsChecked" if needs_one else "BatchPreviewRequestAsChecked"
        batch = copy.deepcopy(schemas["BatchSendRequest"])
        items = batch["properties"]["messages"]
        items["items"] = {}
        if needs_one:
            items["contains"] = {"$ref": "#/components/schemas/SendRequest"}
        schemas[name] = batch
        body = raw_schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
        body["oneOf"] = [
            {"$ref": f"#/components/schemas/{name}"} if alt.get("$ref", "").endswith("/BatchSendRequest") else alt
            for alt in body["oneOf"]
        ]


def _invalid_message(item: Any) -> bool:
    """Whether the document calls this batch item invalid (its formats aside)."""
    if "validator" not in _message_schema:
        _message_schema["validator"] = jsonschema_rs.Draft202012Validator(_rewrite_refs(_message_schema["schema"]))
    return not _message_schema["validator"].is_valid(item)


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (v.replace("#/components/schemas/", "#/$defs/") if k == "$ref" else _rewrite_refs(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


@schemathesis.check
def batch_items_fail_in_place(ctx: Any, response: Any, case: Any) -> bool | None:
    """A batch answer has one item per request item, in order, and every item the document
    calls invalid is answered with its error, never accepted."""
    if (case.method.lower(), case.path) not in BATCH_OPERATIONS:
        return None
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return None
    if response.status_code not in (200, 202, 422):
        return None
    try:
        answer = response.json()
    except ValueError:
        return None
    answered = answer.get("messages") if isinstance(answer, dict) else None
    if answered is None:
        return None  # the batch as a whole was refused (empty, too long, ...)
    items = body["messages"]
    if len(answered) != len(items):
        raise AssertionError(f"{len(items)} items sent, {len(answered)} answered")
    for i, (item, slot) in enumerate(zip(items, answered)):
        if _invalid_message(item) and "error" not in slot:
            raise AssertionError(f"item {i} breaks the document's SendRequest but was accepted: {item!r}")
    return None
