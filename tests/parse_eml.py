#!/usr/bin/env python3
"""Reads one e-mail (RFC 5322 bytes) on stdin and prints what a mail program would show, as JSON:
the decoded headers, the content types, and the plain-text and HTML bodies.

It is the outside reference for the e-mails praxis-sms sends (tests/e2e/reply_mail.rs): Python's
`email` package with its modern policy decodes RFC 2047 headers and the bodies' transfer
encodings and charsets, as a mail program does. Exits 1 on a message it cannot read so.
"""

import email
import email.policy
import json
import sys


def main():
    msg = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
    if msg.defects:
        sys.exit(f"defects: {msg.defects}")
    parts = [p.get_content_type() for p in msg.walk()]
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    from_ = msg["from"]
    print(json.dumps({
        "subject": str(msg["subject"]),
        "from_name": from_.addresses[0].display_name if from_ else None,
        "from_address": from_.addresses[0].addr_spec if from_ else None,
        "to": [a.addr_spec for a in msg["to"].addresses] if msg["to"] else [],
        "date": str(msg["date"]) if msg["date"] else None,
        "message_id": str(msg["message-id"]) if msg["message-id"] else None,
        "content_type": msg.get_content_type(),
        "parts": parts,
        "text": plain.get_content() if plain else None,
        "html": html.get_content() if html else None,
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
