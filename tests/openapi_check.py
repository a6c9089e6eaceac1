#!/usr/bin/env python3
"""Checks openapi.yaml, and optionally a running stack against it.

    python3 tests/openapi_check.py [--spec openapi.yaml]
        validates the spec as OpenAPI 3.1 and every example in it against its schema;

    python3 tests/openapi_check.py --url http://127.0.0.1:3000 --key pxs_...
        additionally calls the running stack (key-check, preview, send one, send a batch of 2,
        get, list, list replies, list opt-outs, and a few error cases) and validates every live
        JSON response body against the schema the spec gives for that route and status code;

    python3 tests/openapi_check.py --url ... --key ... --opted-out +4917612349876
        also sends and previews to that number, which opted out of the practice's SMS (422),
        and lifts its opt-out (204, then 404).

Needs only the standard library and `openapi-spec-validator` (which brings `jsonschema` and
`referencing`):

    python3 -m venv /tmp/venv-openapi && /tmp/venv-openapi/bin/pip install openapi-spec-validator

Exits 0 when everything matches, 1 on any mismatch (each one printed), 2 on a usage problem or
when the stack cannot be reached.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

try:
    from jsonschema import Draft202012Validator, FormatChecker
    from openapi_spec_validator import OpenAPIV31SpecValidator, validate
    from openapi_spec_validator.readers import read_from_filename
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012
except ImportError as e:  # pragma: no cover - environment problem
    sys.exit(f"missing dependency ({e}); install it with: pip install openapi-spec-validator")

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
DEFAULT_SPEC = Path(__file__).resolve().parent.parent / "openapi.yaml"
# A text as Dentport sends it: German, ~100 characters, one GSM-7 part.
REMINDER = (
    "Terminerinnerung Silvana Müller: 19.08. um 16:30 Uhr. "
    "Bei Verhinderung absagen unter 01234-567890"
)


def esc(token: str) -> str:
    """Escapes one JSON-pointer token."""
    return token.replace("~", "~0").replace("/", "~1")


def unesc(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def at_pointer(doc: Any, pointer: str) -> Any:
    node = doc
    for token in pointer.lstrip("/").split("/") if pointer not in ("", "/") else []:
        token = unesc(token)
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def closest(error):
    """For a failed oneOf/anyOf, the error of the alternative that got furthest into the
    instance: "messages[0].sent_at was unexpected" says more than "not valid under any"."""
    while error.context:
        by_branch: dict = {}
        for sub in error.context:
            by_branch.setdefault(sub.relative_schema_path[0], []).append(sub)
        branch = max(by_branch.values(), key=lambda errs: max(len(x.absolute_path) for x in errs))
        error = max(branch, key=lambda x: len(x.absolute_path))
    return error


class Spec:
    def __init__(self, path: Path):
        self.doc, self.uri = read_from_filename(str(path))
        resource = Resource.from_contents(self.doc, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(self.uri, resource)
        self.formats = FormatChecker()
        self.failures: list[str] = []
        self.checked = 0

    # -- the spec itself ---------------------------------------------------------------------

    def validate_document(self) -> None:
        validate(self.doc, base_uri=self.uri, cls=OpenAPIV31SpecValidator)

    def validator(self, pointer: str) -> Draft202012Validator:
        """A validator for the schema at `pointer`, resolving `$ref`s with the spec as referrer."""
        return Draft202012Validator(
            {"$ref": f"{self.uri}#{pointer}"},
            registry=self.registry,
            format_checker=self.formats,
        )

    def follow(self, pointer: str) -> tuple[str, Any]:
        """Follows local `$ref`s of non-schema objects (responses, parameters, request bodies)."""
        node = at_pointer(self.doc, pointer)
        seen = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#") or ref in seen:
                raise ValueError(f"cannot follow $ref {ref!r} at {pointer}")
            seen.add(ref)
            pointer = ref[1:]
            node = at_pointer(self.doc, pointer)
        return pointer, node

    def check(self, what: str, instance: Any, schema_pointer: str) -> bool:
        self.checked += 1
        self.check_labels(what, instance)
        errors = sorted(self.validator(schema_pointer).iter_errors(instance), key=lambda e: list(e.path))
        for e in errors:
            detail = closest(e)
            where = "$" + "".join(f"[{p!r}]" if isinstance(p, str) else f"[{p}]" for p in detail.absolute_path)
            msg = detail.message if len(detail.message) <= 300 else detail.message[:300] + "…"
            self.failures.append(
                f"{what}: {where}: {msg} (schema {schema_pointer}, keyword {detail.validator})"
            )
        return not errors

    def check_labels(self, what: str, instance: Any) -> None:
        """Every object with a `status` and a `status_text` (a message, a history entry) must
        carry the label the document gives that status (`x-status-text` of the Status schema):
        the tie the response schemas leave out so that client generators make plain classes."""
        labels = self.doc["components"]["schemas"]["Status"]["x-status-text"]

        def walk(node: Any, where: str) -> None:
            if isinstance(node, dict):
                if "status" in node and "status_text" in node:
                    self.checked += 1
                    want = labels.get(node["status"])
                    if node["status_text"] != want:
                        self.failures.append(
                            f"{what}: {where}: status {node['status']!r} has status_text "
                            f"{node['status_text']!r}, the document says {want!r}"
                        )
                for k, v in node.items():
                    walk(v, f"{where}[{k!r}]")
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, f"{where}[{i}]")

        walk(instance, "$")

    def validate_examples(self) -> None:
        """Every example in the spec must match the schema it illustrates."""
        for path, item in self.doc.get("paths", {}).items():
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                op_ptr = f"/paths/{esc(path)}/{method}"
                op = item[method]
                params = [(f"{op_ptr}/parameters/{i}") for i in range(len(op.get("parameters", [])))]
                params += [f"/paths/{esc(path)}/parameters/{i}" for i in range(len(item.get("parameters", [])))]
                for param_ptr in params:
                    ptr, param = self.follow(param_ptr)
                    if "example" in param:
                        self.check(f"example of parameter {param['name']} ({method.upper()} {path})",
                                   param["example"], ptr + "/schema")
                if "requestBody" in op:
                    ptr, body = self.follow(op_ptr + "/requestBody")
                    self._media_examples(f"request example of {method.upper()} {path}", ptr, body)
                for code in op.get("responses", {}):
                    ptr, resp = self.follow(op_ptr + f"/responses/{esc(code)}")
                    self._media_examples(f"{code} example of {method.upper()} {path}", ptr, resp)
        for name, schema in self.doc.get("components", {}).get("schemas", {}).items():
            for i, ex in enumerate(schema.get("examples", [])):
                self.check(f"examples[{i}] of schema {name}", ex, f"/components/schemas/{esc(name)}")

    def _media_examples(self, what: str, ptr: str, obj: dict) -> None:
        for mt, media in obj.get("content", {}).items():
            schema_ptr = f"{ptr}/content/{esc(mt)}/schema"
            if "example" in media:
                self.check(what, media["example"], schema_ptr)
            for name, ex in media.get("examples", {}).items():
                if "value" in ex:
                    self.check(f"{what} '{name}'", ex["value"], schema_ptr)

    # -- live responses ----------------------------------------------------------------------

    def response_schema(self, path: str, method: str, status: int) -> tuple[str | None, str | None]:
        """The pointer of the JSON schema for this route and status, or an explanation."""
        item = self.doc["paths"].get(path)
        if item is None or method not in item:
            return None, f"{method.upper()} {path} is not in the spec"
        responses = item[method].get("responses", {})
        for code in (str(status), f"{str(status)[0]}XX", "default"):
            if code in responses:
                ptr, resp = self.follow(f"/paths/{esc(path)}/{method}/responses/{esc(code)}")
                if "application/json" not in resp.get("content", {}):
                    return None, f"the spec has no application/json body for {status} of {method.upper()} {path}"
                return f"{ptr}/content/application~1json/schema", None
        return None, f"status {status} is not documented for {method.upper()} {path}"


class Client:
    def __init__(self, base: str, key: str):
        self.base = base.rstrip("/")
        self.key = key

    def call(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
             headers: dict[str, str] | None = None, auth: bool = True) -> tuple[int, dict, bytes]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        h = {"Accept": "application/json"}
        if data is not None:
            h["Content-Type"] = "application/json"
        if auth:
            h["Authorization"] = f"Bearer {self.key}"
        h.update(headers or {})
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                return res.status, dict(res.headers), res.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()


class LiveCheck:
    def __init__(self, spec: Spec, client: Client, opted_out: str | None = None):
        self.spec = spec
        self.client = client
        # A number that opted out of the practice's SMS before the checks, if any.
        self.opted_out = opted_out

    def fail(self, msg: str) -> None:
        self.spec.failures.append(msg)

    def run(self, label: str, method: str, route: str, url_path: str, expect: int, body: Any = None,
            *, spec_method: str | None = None, want_headers: tuple[str, ...] = (), **kw) -> Any:
        """One call: checks the status code, the content type and the body against the spec.
        `spec_method`: the documented operation whose responses apply (a 405 answers a method
        the path does not document); `want_headers`: headers the answer must carry."""
        what = f"{label} ({method} {url_path})"
        status, headers, raw = self.client.call(method, url_path, body, **kw)
        lower = {k.lower(): v for k, v in headers.items()}
        for h in want_headers:
            if not lower.get(h.lower()):
                self.fail(f"{what}: the answer lacks the {h} header")
        ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if status != expect:
            self.fail(f"{what}: expected status {expect}, got {status}: {raw[:300]!r}")
        if status == 204:
            documented = str(status) in self.spec.doc["paths"].get(route, {}).get(
                (spec_method or method).lower(), {}).get("responses", {})
            if not documented:
                self.fail(f"{what}: status 204 is not documented")
            if raw:
                self.fail(f"{what}: a 204 answer has a body: {raw[:300]!r}")
            print(f"  {'ok ' if documented and not raw and status == expect else 'BAD'} {status} {what}")
            return None
        if not ctype.startswith("application/json"):
            self.fail(f"{what}: Content-Type is {ctype!r}, not application/json")
            return None
        try:
            doc = json.loads(raw)
        except ValueError as e:
            self.fail(f"{what}: body is not JSON ({e}): {raw[:300]!r}")
            return None
        ptr, why = self.spec.response_schema(route, (spec_method or method).lower(), status)
        if ptr is None:
            self.fail(f"{what}: {why}")
            return doc
        ok = self.spec.check(f"{what} -> {status}", doc, ptr)
        print(f"  {'ok ' if ok and status == expect else 'BAD'} {status} {what}")
        return doc

    def all(self) -> None:
        c = self.run
        run_id = uuid.uuid4().hex[:12]

        c("key check", "GET", "/v1/key-check", "/v1/key-check", 200)
        c("key check, X-Api-Key", "GET", "/v1/key-check", "/v1/key-check", 200, auth=False,
          headers={"X-Api-Key": self.client.key})
        c("key check, wrong key", "GET", "/v1/key-check", "/v1/key-check", 401, auth=False,
          headers={"Authorization": "Bearer pxs_" + "A" * 43})

        c("preview one", "POST", "/v1/messages/preview", "/v1/messages/preview", 200,
          {"to": "0176 12345678", "text": REMINDER})
        c("preview a batch", "POST", "/v1/messages/preview", "/v1/messages/preview", 200,
          {"messages": [
              {"to": "0043 664 1234567",
               "text": "Ihr Termin am 3.12. – bitte bringen Sie Ihre „Versichertenkarte“ mit. Ihr Praxisteam"},
              {"to": "0900 1234567", "text": REMINDER},
          ]})
        c("preview, bad sender", "POST", "/v1/messages/preview", "/v1/messages/preview", 422,
          {"to": "0176 12345678", "text": REMINDER, "sender": "Zahnärzte"})

        idem = f"openapi-check-{run_id}"
        one_body = {"to": "+49 (0) 176 12345678", "text": REMINDER, "reference": f"termin-{run_id}"}
        one = c("send one", "POST", "/v1/messages", "/v1/messages", 202, one_body,
                headers={"Idempotency-Key": idem})
        again = c("send one again (same Idempotency-Key)", "POST", "/v1/messages", "/v1/messages", 202,
                  one_body, headers={"Idempotency-Key": idem})
        if isinstance(one, dict) and isinstance(again, dict) and one.get("id") != again.get("id"):
            self.fail(f"idempotent retry answered with another id: {one.get('id')} vs {again.get('id')}")
        c("same Idempotency-Key, other body", "POST", "/v1/messages", "/v1/messages", 409,
          {"to": "0176 12345678", "text": "Anderer Text"}, headers={"Idempotency-Key": idem})

        batch = c("send a batch of 2", "POST", "/v1/messages", "/v1/messages", 202, {"messages": [
            {"to": "0151 23456789",
             "text": "Terminerinnerung Jonas Weber: 20.08. um 08:15 Uhr. Bei Verhinderung absagen unter 01234-567890",
             "reference": f"termin-{run_id}-b1"},
            {"to": "0049 160 9876543",
             "text": "Recall: Ihre halbjährliche Kontrolle ist fällig. Termin vereinbaren unter 01234-567890. Ihre Zahnarztpraxis"},
        ]})
        if isinstance(batch, dict) and len(batch.get("messages", [])) != 2:
            self.fail(f"batch of 2 answered with {len(batch.get('messages', []))} items")

        c("send, malformed JSON", "POST", "/v1/messages", "/v1/messages", 400, raw=b'{"to":')
        c("send, unknown field", "POST", "/v1/messages", "/v1/messages", 400,
          {"to": "0176 12345678", "text": REMINDER, "scheduled_at": "2026-12-01T08:00:00Z"})
        c("send, a field twice", "POST", "/v1/messages", "/v1/messages", 400,
          raw=b'{"to":"0176 12345678","text":"a","text":"b"}')
        c("send, not declared JSON", "POST", "/v1/messages", "/v1/messages", 415,
          {"to": "0176 12345678", "text": REMINDER}, headers={"Content-Type": "text/plain"})
        c("preview, not declared JSON", "POST", "/v1/messages/preview", "/v1/messages/preview", 415,
          {"to": "0176 12345678", "text": REMINDER}, headers={"Content-Type": "text/plain"})
        c("wrong method", "DELETE", "/v1/messages", "/v1/messages", 405, spec_method="post",
          want_headers=("Allow",))
        c("send, bad number", "POST", "/v1/messages", "/v1/messages", 422,
          {"to": "0176 1234567x", "text": REMINDER})
        c("send, batch with every item bad", "POST", "/v1/messages", "/v1/messages", 422,
          {"messages": [{"to": "abc", "text": REMINDER}, {"to": "0176 12345678", "text": ""}]})
        c("send, batch of 1001", "POST", "/v1/messages", "/v1/messages", 422,
          {"messages": [{"to": "0176 12345678", "text": "x"}] * 1001})
        try:
            c("send, body over 1 MiB", "POST", "/v1/messages", "/v1/messages", 413,
              raw=b'{"to":"0176 12345678","text":"' + b"a" * (1024 * 1024) + b'"}')
        except (ConnectionError, urllib.error.URLError) as e:
            print(f"  (413 check skipped: the server closed the connection while we sent: {e})")

        if isinstance(one, dict) and "id" in one:
            path = f"/v1/messages/{one['id']}"
            deadline = time.monotonic() + 15
            while True:
                m = c("get", "GET", "/v1/messages/{id}", path, 200)
                final = isinstance(m, dict) and m.get("status") in ("delivered", "undelivered")
                if final or time.monotonic() > deadline:
                    break
                time.sleep(0.3)
            if not final:
                self.fail(f"message {one['id']} did not reach a final status within 15 s")
        c("get, unknown id", "GET", "/v1/messages/{id}", "/v1/messages/01ARZ3NDEKTSV4RRFFQ69G5FAV", 404)

        page = c("list", "GET", "/v1/messages", "/v1/messages?limit=2", 200)
        if isinstance(page, dict) and page.get("next_cursor"):
            c("list, next page", "GET", "/v1/messages", f"/v1/messages?limit=2&cursor={page['next_cursor']}", 200)
        c("list, filtered", "GET", "/v1/messages",
          "/v1/messages?status=delivered&since=2026-01-01T00:00:00Z&until=2099-01-01T00:00:00Z", 200)
        c("list, limit out of bounds", "GET", "/v1/messages", "/v1/messages?limit=501", 422)
        c("list, unknown parameter", "GET", "/v1/messages", "/v1/messages?stauts=delivered", 400)

        c("DLR webhook without token", "POST", "/webhooks/sim/dlr", "/webhooks/sim/dlr", 401,
          {"id": "x", "carrier_ref": "x", "status": "delivered", "at": "2026-08-17T09:15:06Z"}, auth=False)

        c("list replies", "GET", "/v1/replies", "/v1/replies?limit=2", 200)
        c("list replies, bad cursor", "GET", "/v1/replies", "/v1/replies?cursor=nope", 422)
        c("list replies, unknown parameter", "GET", "/v1/replies", "/v1/replies?status=sent", 400)
        c("list invoices", "GET", "/v1/invoices", "/v1/invoices", 200)
        c("list invoices, unknown parameter", "GET", "/v1/invoices", "/v1/invoices?month=2026-11", 400)
        c("invoice PDF, unknown id", "GET", "/v1/invoices/{id}/pdf",
          "/v1/invoices/01ARZ3NDEKTSV4RRFFQ69G5FAV/pdf", 404)
        c("invoice link, bad signature", "GET", "/invoices/{id}/pdf",
          "/invoices/01ARZ3NDEKTSV4RRFFQ69G5FAV/pdf?expires=4102444800&signature=00", 403, auth=False)
        c("inbound webhook without token", "POST", "/webhooks/sim/inbound", "/webhooks/sim/inbound", 401,
          {"from": "+4917612345678", "to": "+4915112340000", "text": "Ja"}, auth=False)

        opt_outs = c("list opt-outs", "GET", "/v1/opt-outs", "/v1/opt-outs?limit=10", 200)
        c("list opt-outs, limit out of bounds", "GET", "/v1/opt-outs", "/v1/opt-outs?limit=0", 422)
        c("list opt-outs, unknown parameter", "GET", "/v1/opt-outs", "/v1/opt-outs?since=2026-01-01T00:00:00Z", 400)
        c("lift an opt-out that is not there", "DELETE", "/v1/opt-outs/{number}",
          "/v1/opt-outs/%2B4917600000005", 404)
        c("opt-outs, wrong method", "POST", "/v1/opt-outs", "/v1/opt-outs", 405, {}, spec_method="get",
          want_headers=("Allow",))
        if self.opted_out:
            listed = [o.get("number") for o in (opt_outs or {}).get("opt_outs", [])]
            if self.opted_out not in listed:
                self.fail(f"the opted-out number is not listed: {listed}")
            c("send to an opted-out number", "POST", "/v1/messages", "/v1/messages", 422,
              {"to": self.opted_out, "text": REMINDER})
            c("preview to an opted-out number", "POST", "/v1/messages/preview", "/v1/messages/preview", 422,
              {"to": self.opted_out, "text": REMINDER})
            encoded = urllib.parse.quote(self.opted_out, safe="")
            c("lift the opt-out", "DELETE", "/v1/opt-outs/{number}", f"/v1/opt-outs/{encoded}", 204)
            c("lift it again", "DELETE", "/v1/opt-outs/{number}", f"/v1/opt-outs/{encoded}", 404)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="the OpenAPI file (default: openapi.yaml)")
    ap.add_argument("--url", help="base URL of a running stack, e.g. http://127.0.0.1:3000")
    ap.add_argument("--key", help="an API key of a practice on that stack")
    ap.add_argument("--opted-out", help="a number (E.164) that opted out of that practice's SMS")
    args = ap.parse_args()
    if bool(args.url) != bool(args.key):
        ap.error("--url and --key go together")

    spec = Spec(args.spec)
    try:
        spec.validate_document()
    except Exception as e:  # the validator raises its own error types
        print(f"FAIL {args.spec} is not valid OpenAPI 3.1: {e}", file=sys.stderr)
        return 1
    print(f"ok  {args.spec} is valid OpenAPI 3.1")
    spec.validate_examples()
    examples = spec.checked
    print(f"{'ok ' if not spec.failures else 'BAD'} {examples} examples checked against their schemas")

    if args.url:
        print(f"live checks against {args.url}:")
        try:
            LiveCheck(spec, Client(args.url, args.key), args.opted_out).all()
        except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
            print(f"FAIL cannot reach {args.url}: {e}", file=sys.stderr)
            return 2
        print(f"{spec.checked - examples} live responses checked")

    if spec.failures:
        print(f"\nFAIL {len(spec.failures)} mismatch(es):", file=sys.stderr)
        for f in spec.failures:
            print(f"  - {f}", file=sys.stderr)
        return 1
    print("all good")
    return 0


if __name__ == "__main__":
    sys.exit(main())
