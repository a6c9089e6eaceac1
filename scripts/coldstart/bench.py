#!/usr/bin/env python3
"""Cold start of the praxis-sms Lambda binaries against a Lambda Runtime API emulator.

Each binary is started as Lambda starts a `provided.al2023` function: the Lambda environment,
the function's environment from template.yaml, `AWS_LAMBDA_RUNTIME_API` pointing at an emulator
on loopback. The figure is the time from spawn to the binary's first
`GET /2018-06-01/runtime/invocation/next`, i.e. its init. Binaries are run interleaved, round
by round, after untimed warm-up rounds; the median and p90 of each are printed with the ratio
to the hello-world baseline.

Every AWS endpoint, carrier URL and the instance-metadata endpoint point at a loopback listener
that records connections: any connection while a function initialises (or idles before its
first event) is a failure. `praxis-api` is then handed `GET /v1/key-check` without a key and
must answer 401.

Python 3.11 standard library only. Prints figures; exits non-zero only when something is wrong
(a binary fails to start, a network connection, a wrong answer, a binary over the size limit),
never because of a timing.

    bench.py --template template.yaml --events events --runs 30 \\
        hello-lambda=target/lambda/hello-lambda/bootstrap praxis-api=... praxis-dispatch=... \\
        praxis-dlr=... praxis-inbound=... praxis-sweeper=...
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BASELINE = "hello-lambda"
TARGET_RATIO = 1.5
MAX_SIZE_BYTES = 8_000_000  # "8 MB", read strictly
INIT_TIMEOUT_S = 10.0  # Lambda's init timeout
IDLE_AFTER_NEXT_S = 1.0  # how long the network check watches a function idle after init
REGION = "eu-central-1"
ACCOUNT = "123456789012"
STACK = "praxis-sms"


# ------------------------------------------------------------------ template.yaml
# template.yaml uses CloudFormation tags (!Ref, !If), which the standard library cannot load as
# YAML; the few shapes the functions' environment uses are read here, and anything else stops
# the benchmark instead of being guessed.


class TemplateError(Exception):
    pass


NO_VALUE = object()


def scan_template(text: str) -> dict[tuple[str, ...], str]:
    """Every `key: value` line of the template by its path of keys (list items are skipped)."""
    values: dict[tuple[str, ...], str] = {}
    stack: list[tuple[int, str]] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if stripped.startswith("- "):
            stack.append((indent, "-"))
            continue
        m = re.match(r"^([A-Za-z0-9_:.\-]+):(?:\s+(.*))?$", stripped)
        if not m:
            continue
        key, value = m.group(1), (m.group(2) or "").strip()
        path = tuple(k for _, k in stack) + (key,)
        if value and not value.startswith(("'", '"')):
            value = re.sub(r"\s+#.*$", "", value)
        values[path] = value
        stack.append((indent, key))
    return values


def unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


@dataclass
class Template:
    values: dict[tuple[str, ...], str]
    overrides: dict[str, str]
    recorder_url: str

    def parameter(self, name: str) -> str:
        if name in self.overrides:
            return self.overrides[name]
        default = self.values.get(("Parameters", name, "Default"))
        if default is None:
            raise TemplateError(f"parameter {name} has no default; give it with --parameter")
        return unquote(default)

    def ref(self, name: str):
        if name == "AWS::NoValue":
            return NO_VALUE
        pseudo = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::StackName": STACK}
        if name in pseudo:
            return pseudo[name]
        if ("Parameters", name, "Type") in self.values:
            return self.parameter(name)
        kind = self.values.get(("Resources", name, "Type"))
        if kind is None:
            raise TemplateError(f"!Ref {name}: neither a parameter nor a resource")
        # What Ref returns for each type, with made-up physical names; a queue's URL points at
        # the recorder so that even a client that ignored AWS_ENDPOINT_URL would be seen.
        if kind == "AWS::SQS::Queue":
            return f"{self.recorder_url}/{ACCOUNT}/{STACK}-{name}-COLDSTART"
        if kind == "AWS::S3::Bucket":
            return f"{STACK}-{name}-coldstart".lower()
        return f"{STACK}-{name}-COLDSTART"

    def condition(self, name: str) -> bool:
        raw = self.values.get(("Conditions", name))
        m = raw and re.fullmatch(r'!Not \[!Equals \[!Ref (\w+), ""\]\]', raw)
        if not m:
            raise TemplateError(f"condition {name} ({raw!r}) is not a shape this script reads")
        return self.parameter(m.group(1)) != ""

    def resolve(self, raw: str):
        m = re.fullmatch(r"!Ref\s+([\w:]+)", raw)
        if m:
            return self.ref(m.group(1))
        m = re.fullmatch(r"!If\s*\[\s*(\w+)\s*,\s*([^,]+?)\s*,\s*([^,]+?)\s*\]", raw)
        if m:
            return self.resolve(m.group(2) if self.condition(m.group(1)) else m.group(3))
        if raw.startswith("!"):
            raise TemplateError(f"value {raw!r} is not a shape this script reads")
        return unquote(raw)

    def function_for_binary(self, binary: str) -> str | None:
        for path, value in self.values.items():
            if (
                len(path) == 5
                and path[0] == "Resources"
                and path[2:] == ("Metadata", "BuildProperties", "Binary")
                and unquote(value) == binary
            ):
                return path[1]
        return None

    def environment(self, function: str) -> dict[str, str]:
        """Globals' environment, then the function's own, resolved."""
        env: dict[str, str] = {}
        prefixes = [
            ("Globals", "Function", "Environment", "Variables"),
            ("Resources", function, "Properties", "Environment", "Variables"),
        ]
        for prefix in prefixes:
            for path, raw in self.values.items():
                if len(path) == len(prefix) + 1 and path[:-1] == prefix:
                    value = self.resolve(raw)
                    if value is NO_VALUE:
                        env.pop(path[-1], None)
                    else:
                        env[path[-1]] = str(value)
        return env


# ------------------------------------------------------------------ loopback listeners


class Recorder:
    """A TCP listener standing in for every remote endpoint: it notes each connection and
    closes it, so a client that tries one fails fast instead of waiting for a timeout."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.connections: list[float] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections.append(time.perf_counter())
            conn.close()

    def count(self) -> int:
        with self.lock:
            return len(self.connections)


@dataclass
class Invocation:
    request_id: str
    event: bytes


@dataclass
class Run:
    """One start of one binary, as the emulator sees it."""

    events: list[Invocation] = field(default_factory=list)
    first_next: float | None = None
    started: threading.Event = field(default_factory=threading.Event)
    answered: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    responses: dict[str, bytes] = field(default_factory=dict)
    errors: dict[str, bytes] = field(default_factory=dict)
    init_error: bytes | None = None


class RuntimeApi(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), RuntimeApiHandler)
        self.run = Run()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


class RuntimeApiHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: RuntimeApi

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - http.server's naming
        now = time.perf_counter()
        run = self.server.run
        if self.path != "/2018-06-01/runtime/invocation/next":
            self._reply(404)
            return
        if run.first_next is None:
            run.first_next = now
            run.started.set()
        if run.events:
            inv = run.events.pop(0)
            deadline = int(time.time() * 1000) + 10_000
            arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:coldstart"
            self._reply(
                200,
                inv.event,
                {
                    "Content-Type": "application/json",
                    "Lambda-Runtime-Aws-Request-Id": inv.request_id,
                    "Lambda-Runtime-Deadline-Ms": str(deadline),
                    "Lambda-Runtime-Invoked-Function-Arn": arn,
                    "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
                },
            )
            return
        # No event: hold the long poll, as Lambda does between invocations, until the run ends.
        run.stop.wait(60)
        self.close_connection = True

    def do_POST(self):  # noqa: N802
        run = self.server.run
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        m = re.fullmatch(r"/2018-06-01/runtime/invocation/([^/]+)/(response|error)", self.path)
        if m:
            (run.responses if m.group(2) == "response" else run.errors)[m.group(1)] = body
            run.answered.set()
            self._reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"})
        elif self.path == "/2018-06-01/runtime/init/error":
            run.init_error = body
            run.started.set()
            self._reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"})
        else:
            self._reply(404)


# ------------------------------------------------------------------ running a binary


class Failure(Exception):
    pass


@dataclass
class Binary:
    name: str
    path: Path
    env: dict[str, str]
    log: Path
    times_ms: list[float] = field(default_factory=list)


def lambda_environment(function_name: str, runtime_api: str, recorder_url: str) -> dict[str, str]:
    """What Lambda sets for a provided.al2023 function, plus fake credentials and every
    endpoint override aimed at the recorder. Built from scratch: nothing (no proxy, no AWS
    profile) comes from the caller's environment."""
    return {
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{STACK}/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]00000000000000000000000000000000",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "ASIACOLDSTARTFAKE000",
        "AWS_ACCESS_KEY": "ASIACOLDSTARTFAKE000",
        "AWS_SECRET_ACCESS_KEY": "coldstart-fake-secret-access-key-000000000",
        "AWS_SESSION_TOKEN": "coldstart-fake-session-token",
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        "_HANDLER": "bootstrap",
        "LAMBDA_TASK_ROOT": "/var/task",
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "LANG": "en_US.UTF-8",
        "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
        "LD_LIBRARY_PATH": "/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
        "TZ": ":UTC",
        # Not set by Lambda: every way out goes to the recorder.
        "AWS_ENDPOINT_URL": recorder_url,
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": recorder_url,
    }


# The carriers' API URLs point at the recorder. Their secrets are not in the environment: the
# template passes SSM parameter names (from template.yaml, like the rest), which the functions
# read on first use, so init must not touch SSM either.
def carrier_environment(recorder_url: str) -> dict[str, str]:
    return {
        "SEVEN_API_URL": recorder_url,
        "VONAGE_API_URL": recorder_url,
    }


def start(binary: Binary, api: RuntimeApi, run: Run) -> tuple[subprocess.Popen, float]:
    api.run = run
    with binary.log.open("ab") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [str(binary.path)],
            env=binary.env,
            cwd=binary.path.parent,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
    return proc, t0


def stop(proc: subprocess.Popen, run: Run) -> None:
    proc.kill()
    proc.wait()
    run.stop.set()


def log_tail(binary: Binary, lines: int = 15) -> str:
    text = binary.log.read_text(errors="replace").splitlines()
    return "\n".join("    " + line for line in text[-lines:])


def await_init(binary: Binary, proc: subprocess.Popen, run: Run) -> None:
    deadline = time.perf_counter() + INIT_TIMEOUT_S
    while not run.started.wait(0.05):
        if proc.poll() is not None:
            run.stop.set()
            raise Failure(
                f"{binary.name}: exited ({proc.returncode}) before its first /next\n"
                f"{log_tail(binary)}"
            )
        if time.perf_counter() > deadline:
            stop(proc, run)
            raise Failure(f"{binary.name}: no /next within {INIT_TIMEOUT_S} s\n{log_tail(binary)}")
    if run.init_error is not None:
        stop(proc, run)
        raise Failure(
            f"{binary.name}: init error {run.init_error.decode(errors='replace')}\n"
            f"{log_tail(binary)}"
        )


def timed_start(binary: Binary, api: RuntimeApi, recorder: Recorder) -> float:
    before = recorder.count()
    run = Run()
    proc, t0 = start(binary, api, run)
    await_init(binary, proc, run)
    elapsed = run.first_next - t0
    stop(proc, run)
    if recorder.count() != before:
        raise Failure(f"{binary.name}: connected to the network during init")
    return elapsed * 1000


def network_check(binary: Binary, api: RuntimeApi, recorder: Recorder) -> int:
    """Connections from spawn until IDLE_AFTER_NEXT_S after the first /next (background tasks
    started at init would show here)."""
    before = recorder.count()
    run = Run()
    proc, _ = start(binary, api, run)
    await_init(binary, proc, run)
    time.sleep(IDLE_AFTER_NEXT_S)
    stop(proc, run)
    return recorder.count() - before


def key_check_probe(binary: Binary, api: RuntimeApi, recorder: Recorder, events: Path) -> str:
    """GET /v1/key-check without a key must be answered 401, without any network call."""
    event = json.loads((events / "api" / "key-check.json").read_text())
    for header in ("authorization", "x-api-key"):
        event["headers"].pop(header, None)
    inv = Invocation(str(uuid.uuid4()), json.dumps(event).encode())
    before = recorder.count()
    run = Run(events=[inv])
    proc, _ = start(binary, api, run)
    await_init(binary, proc, run)
    answered = run.answered.wait(INIT_TIMEOUT_S)
    stop(proc, run)
    connections = recorder.count() - before
    if not answered:
        raise Failure(f"{binary.name}: no answer to GET /v1/key-check\n{log_tail(binary)}")
    if inv.request_id in run.errors:
        raise Failure(f"{binary.name}: invocation error {run.errors[inv.request_id]!r}")
    response = json.loads(run.responses[inv.request_id])
    status = response.get("statusCode")
    body = response.get("body") or ""
    if status != 401:
        raise Failure(f"{binary.name}: GET /v1/key-check without a key answered {status}: {body}")
    if connections:
        raise Failure(f"{binary.name}: {connections} network connection(s) for GET /v1/key-check")
    return f"statusCode {status}, body {body}"


# ------------------------------------------------------------------ figures


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}"


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "binaries", nargs="+", metavar="NAME[@TAG]=PATH",
        help="a binary; NAME@TAG measures another build of NAME beside it",
    )
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds first")
    parser.add_argument("--template", type=Path, default=Path("template.yaml"))
    parser.add_argument("--events", type=Path, default=Path("events"))
    parser.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a template parameter (SenderEmail has no default)",
    )
    args = parser.parse_args()

    recorder = Recorder()
    recorder_url = f"http://127.0.0.1:{recorder.port}"
    api = RuntimeApi()
    overrides = {
        "SenderEmail": "praxis@coldstart.example",
        # The invoice function refuses to start without a valid one.
        "BillingConfiguration": Path("docs/billing.example.json").read_text(),
    }
    overrides.update(p.split("=", 1) for p in args.parameter)
    template = Template(scan_template(args.template.read_text()), overrides, recorder_url)
    logdir = Path(tempfile.mkdtemp(prefix="praxis-coldstart."))

    binaries: list[Binary] = []
    failures: list[str] = []
    for spec in args.binaries:
        name, _, path = spec.partition("=")
        # `praxis-api@before=…`: a tag after `@` names a second build of the same function, so
        # two builds are measured interleaved in one run (noise between runs exceeds the effect).
        function_name = name.split("@")[0]
        env = lambda_environment(function_name, api.address, recorder_url)
        if name != BASELINE:
            function = template.function_for_binary(function_name)
            if function is None:
                print(f"{name}: no function in {args.template} builds it", file=sys.stderr)
                return 2
            env.update(template.environment(function))
            env.update(carrier_environment(recorder_url))
        binaries.append(Binary(name, Path(path).resolve(), env, logdir / f"{name}.log"))
    if not any(b.name == BASELINE for b in binaries):
        print(f"the baseline {BASELINE}=PATH is missing", file=sys.stderr)
        return 2

    print(f"machine: {machine()}; load average at start {loadavg()}")
    for b in binaries:
        if b.name != BASELINE:
            keys = " ".join(sorted(k for k in b.env if k.startswith(("PRAXIS_", "SEVEN_"))))
            print(f"{b.name}: environment from template.yaml and today's secrets: {keys}")
    print(f"every endpoint -> recorder {recorder_url}; binaries' stderr in {logdir}")

    try:
        for round_no in range(args.warmup + args.runs):
            # Interleaved, and the order rotates each round so no binary always goes first.
            shift = round_no % len(binaries)
            for b in binaries[shift:] + binaries[:shift]:
                ms = timed_start(b, api, recorder)
                if round_no >= args.warmup:
                    b.times_ms.append(ms)
        for b in binaries:
            if b.name == BASELINE:
                continue
            n = network_check(b, api, recorder)
            verdict = "none" if n == 0 else f"{n} -- FAIL"
            print(f"{b.name}: network connections from spawn to {IDLE_AFTER_NEXT_S:.0f} s after "
                  f"the first /next: {verdict}")
            if n:
                failures.append(f"{b.name}: {n} network connection(s) during init")
        api_binary = next((b for b in binaries if b.name == "praxis-api"), None)
        if api_binary is not None:
            result = key_check_probe(api_binary, api, recorder, args.events)
            print(f"praxis-api: GET /v1/key-check without a key -> {result}")
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1

    base = statistics.median(next(b for b in binaries if b.name == BASELINE).times_ms)
    print()
    print(f"cold start = spawn -> first GET /2018-06-01/runtime/invocation/next; {args.runs} runs "
          f"each, interleaved, after {args.warmup} warm-up round(s); load average at end "
          f"{loadavg()}")
    print(f"{'binary':<16} {'size':>12} {'median':>9} {'p90':>9} {'min':>9} {'ratio':>7}")
    for b in binaries:
        size = b.path.stat().st_size
        median = statistics.median(b.times_ms)
        ratio = median / base
        note = ""
        if b.name != BASELINE:
            note = f"  target <= {TARGET_RATIO}x: {'met' if ratio <= TARGET_RATIO else 'NOT met'}"
        print(f"{b.name:<16} {size / 1e6:>9.2f} MB {median:>6.2f} ms {p90(b.times_ms):>6.2f} ms "
              f"{min(b.times_ms):>6.2f} ms {ratio:>6.2f}x{note}")
        if size > MAX_SIZE_BYTES:
            failures.append(f"{b.name}: {size} bytes, over {MAX_SIZE_BYTES}")
    for f in failures:
        print(f"FAIL: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
