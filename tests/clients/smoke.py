"""The Python client generated from openapi.yaml (openapi-python-client), used as a practice
software team would: key check, send one and a batch, get, list with a cursor. Messages must come
back as plain typed objects (`message.id`, `message.status`, `message.history[0].at`).

    PYTHONPATH=<generated client dir> python tests/clients/smoke.py --url URL --key KEY
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time

from praxis_sms_client import AuthenticatedClient
from praxis_sms_client.api.key import key_check
from praxis_sms_client.api.messages import get_message, list_messages, send_messages
from praxis_sms_client.models import BatchResult, BatchSendRequest, KeyCheck, Message, MessageList, SendRequest
from praxis_sms_client.models.encoding import Encoding
from praxis_sms_client.models.status import Status

REMINDER = "Terminerinnerung Silvana Müller: 19.08. um 16:30 Uhr. Bei Verhinderung absagen unter 01234-567890"


def check(cond: bool, what: str) -> None:
    if not cond:
        raise SystemExit(f"FAIL {what}")
    print(f"  ok  {what}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--key", required=True)
    args = ap.parse_args()
    client = AuthenticatedClient(base_url=args.url, token=args.key, raise_on_unexpected_status=True)

    kc = key_check.sync(client=client)
    check(isinstance(kc, KeyCheck) and kc.ok and kc.practice.name == kc.name, "key check answers a KeyCheck")

    m = send_messages.sync(client=client, body=SendRequest(to="0176 12345678", text=REMINDER, reference="smoke-1"))
    check(isinstance(m, Message), "send one answers a Message")
    assert isinstance(m, Message)
    check(len(m.id) == 26 and m.status == Status.PENDING, f"message.id {m.id}, message.status {m.status.value}")
    check(m.encoding == Encoding.GSM_7 and m.segments == 1 and m.to == "+4917612345678", "typed encoding, parts, E.164")
    check(isinstance(m.history[0].at, datetime.datetime), "message.history[0].at is a datetime")

    tab = send_messages.sync(client=client, body=SendRequest(to="0151 23456789", text="Termin:\t19.08.", smart_encoding=True))
    check(isinstance(tab, Message) and tab.text == "Termin: 19.08.", "a tab with smart encoding is sent as a space")

    b = send_messages.sync(
        client=client,
        body=BatchSendRequest(
            messages=[SendRequest(to="0176 12345679", text=REMINDER), SendRequest(to="0900 1234567", text=REMINDER)]
        ),
    )
    check(isinstance(b, BatchResult) and len(b.messages) == 2, "a batch answers a BatchResult of 2 items")
    assert isinstance(b, BatchResult)
    check(isinstance(b.messages[0], Message), "the good item is a Message")
    bad = b.messages[1]
    check(not isinstance(bad, Message) and bad.error.field == "messages[1].to", "the bad item is an Error naming its field")

    deadline = time.monotonic() + 15
    while True:
        got = get_message.sync(client=client, id=m.id)
        check(isinstance(got, Message) and got.id == m.id, f"get {m.id}: {got.status.value if isinstance(got, Message) else got}")
        assert isinstance(got, Message)
        if got.status in (Status.DELIVERED, Status.UNDELIVERED) or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    check(got.status == Status.DELIVERED and got.sent_at is not None, "delivered, with sent_at")
    check([h.status for h in got.history][0] == Status.PENDING and got.history[-1].status == Status.DELIVERED, "history")

    page = list_messages.sync(client=client, limit=2)
    check(isinstance(page, MessageList) and len(page.messages) == 2 and page.next_cursor, "list, first page of 2")
    assert isinstance(page, MessageList) and isinstance(page.next_cursor, str)
    rest = list_messages.sync(client=client, limit=2, cursor=page.next_cursor)
    check(isinstance(rest, MessageList) and {x.id for x in rest.messages}.isdisjoint({x.id for x in page.messages}),
          "list, next page by cursor")
    print("generated Python client: all good")
    return 0


if __name__ == "__main__":
    sys.exit(main())
