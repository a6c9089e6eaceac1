#!/usr/bin/env python3
"""Checks that template.yaml makes the same table and queue as the Rust code.

`praxis-sms aws bootstrap` creates the DynamoDB table with `create_table` and the queues with
`create_queues` (shared/src/adapters/aws/provision.rs), the table with the keys the store spells
(shared/src/adapters/aws/store/keys.rs); a deployed stack gets them from template.yaml. The two
must agree, or the Lambdas would query indexes or attributes the table does not have. This reads
the Rust constants with regular expressions and compares them with the template:

- the table's key schema (PK/SK), attribute definitions, the GSIs (names, hash/range keys,
  projection) and the TTL attribute;
- the dispatch queue's visibility timeout and its redrive policy's maxReceiveCount, and that the
  dispatch function's timeout is at most a sixth of the visibility timeout;
- the functions: the template deploys exactly the Lambda binaries of the crates under
  functions/, and scripts/package.sh and scripts/coldstart.sh build exactly those; the
  dispatch function's timeout is the dispatcher's FUNCTION_TIMEOUT_SECONDS;
- the operator is told: every function logs to a log group of the template and has alarms on
  its errors and throttles, every alarm has an action, the sweeper has a schedule.

Run it with a Python that has cfn-lint (for its CloudFormation-aware YAML loader) or PyYAML;
scripts/test.sh uses the cfn-lint venv it installs, from the repository's root:
    target/test-deps/cfn-venv/bin/python tests/template_matches_code.py
Exits 0 when everything matches, 1 with one line per mismatch otherwise, 2 if it cannot run.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
KEYS_RS = ROOT / "shared/src/adapters/aws/store/keys.rs"
PROVISION_RS = ROOT / "shared/src/adapters/aws/provision.rs"
FUNCTIONS = ROOT / "functions"
BUILD_SCRIPTS = [ROOT / "scripts/package.sh", ROOT / "scripts/coldstart.sh"]


def load_template(path):
    """The template as plain dicts; short tags (!Ref, !Sub, ...) become {"Fn::...": ...}."""
    try:
        from cfnlint.decode import decode  # the loader cfn-lint itself uses

        template, matches = decode(str(path))
        if matches:
            sys.exit(f"cannot parse {path}: " + "; ".join(str(m) for m in matches))
        return template
    except ImportError:
        pass
    try:
        import yaml
    except ImportError:
        sys.exit(
            "needs cfn-lint or PyYAML: run it with target/test-deps/cfn-venv/bin/python "
            "(scripts/test.sh installs it)"
        )

    class Loader(yaml.SafeLoader):
        pass

    def tag(loader, suffix, node):
        name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if suffix == "GetAtt":  # !GetAtt Res.Attr is Fn::GetAtt: [Res, Attr]
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    Loader.add_multi_constructor("!", tag)
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=Loader)


def rust_str_const(source, name, path):
    m = re.search(rf'pub const {name}: &str = "([^"]*)";', source)
    if not m:
        sys.exit(f"{path}: no `pub const {name}: &str` found")
    return m.group(1)


def rust_int_const(source, name, path):
    m = re.search(rf"const {name}: u\d+ = ([0-9_ *]+);", source)
    if not m:
        sys.exit(f"{path}: no integer `const {name}` found")
    value = 1
    for factor in m.group(1).replace("_", "").split("*"):
        value *= int(factor)
    return value


def rust_indexes(keys, keys_path, provision, provision_path):
    """{name: (pk, sk, projection)} from the `Index` constants in `keys` and the
    `index(&GSIn, ProjectionType::X)` calls of `create_table` in `provision`."""
    indexes = {}
    for const, body in re.findall(r"pub const (\w+): Index = Index \{(.*?)\};", keys, re.S):
        fields = dict(re.findall(r'(\w+): "([^"]*)"', body))
        proj = re.search(rf"index\(&(?:keys::)?{const}, ProjectionType::(\w+)\)", provision)
        if not proj:
            sys.exit(f"{provision_path}: `create_table` does not create index {const}")
        # ProjectionType::KeysOnly -> KEYS_ONLY, All -> ALL
        projection = re.sub(r"(?<!^)(?=[A-Z])", "_", proj.group(1)).upper()
        indexes[fields["name"]] = (fields["pk"], fields["sk"], projection)
    if not indexes:
        sys.exit(f"{keys_path}: no `Index` constants found")
    return indexes


def resource_of_type(resources, kind, name):
    if name not in resources or resources[name].get("Type") != kind:
        sys.exit(f"{TEMPLATE.name}: no {kind} resource named {name}")
    return resources[name]["Properties"]


def main():
    keys_rs = KEYS_RS.read_text(encoding="utf-8")
    provision_rs = PROVISION_RS.read_text(encoding="utf-8")
    resources = load_template(TEMPLATE)["Resources"]
    errors = []

    def expect(what, template_value, code_value, where):
        if template_value != code_value:
            errors.append(f"{what}: template.yaml has {template_value!r}, {where} has {code_value!r}")

    # --- the table
    table = resource_of_type(resources, "AWS::DynamoDB::Table", "Table")
    pk = rust_str_const(keys_rs, "PK", KEYS_RS)
    sk = rust_str_const(keys_rs, "SK", KEYS_RS)
    ttl = rust_str_const(keys_rs, "EXPIRES_AT", KEYS_RS)
    code_indexes = rust_indexes(keys_rs, KEYS_RS, provision_rs, PROVISION_RS)
    keys_where = "store/keys.rs and provision.rs"

    key_schema = {k["KeyType"]: k["AttributeName"] for k in table.get("KeySchema", [])}
    expect("table key schema", key_schema, {"HASH": pk, "RANGE": sk}, keys_where)

    tmpl_indexes = {}
    for gsi in table.get("GlobalSecondaryIndexes", []):
        ks = {k["KeyType"]: k["AttributeName"] for k in gsi["KeySchema"]}
        tmpl_indexes[gsi["IndexName"]] = (
            ks.get("HASH"),
            ks.get("RANGE"),
            gsi.get("Projection", {}).get("ProjectionType"),
        )
    expect("GSI names", sorted(tmpl_indexes), sorted(code_indexes), keys_where)
    for name in sorted(set(tmpl_indexes) & set(code_indexes)):
        expect(f"GSI {name} (hash key, range key, projection)",
               tmpl_indexes[name], code_indexes[name], keys_where)

    # Every key attribute is a string, and nothing else is declared (CloudFormation rejects
    # definitions no key uses; `create_table` declares exactly the key attributes as S).
    code_attrs = {pk: "S", sk: "S"}
    for ipk, isk, _ in code_indexes.values():
        code_attrs[ipk] = "S"
        code_attrs[isk] = "S"
    tmpl_attrs = {a["AttributeName"]: a["AttributeType"] for a in table.get("AttributeDefinitions", [])}
    expect("attribute definitions", dict(sorted(tmpl_attrs.items())),
           dict(sorted(code_attrs.items())), keys_where)

    ttl_spec = table.get("TimeToLiveSpecification", {})
    expect("TTL attribute", ttl_spec.get("AttributeName"), ttl, keys_where)
    expect("TTL enabled", ttl_spec.get("Enabled"), True, keys_where)
    expect("billing mode", table.get("BillingMode"), "PAY_PER_REQUEST",
           "provision.rs (BillingMode::PayPerRequest)")

    # --- the queues
    queue = resource_of_type(resources, "AWS::SQS::Queue", "DispatchQueue")
    max_receive = rust_int_const(provision_rs, "MAX_RECEIVE_COUNT", PROVISION_RS)
    visibility = rust_int_const(provision_rs, "VISIBILITY_TIMEOUT_SECONDS", PROVISION_RS)
    dlq_retention = rust_int_const(provision_rs, "DLQ_RETENTION_SECONDS", PROVISION_RS)
    sqs_where = "provision.rs"

    expect("dispatch queue VisibilityTimeout", int(queue.get("VisibilityTimeout", -1)),
           visibility, sqs_where)
    redrive = queue.get("RedrivePolicy", {})
    expect("redrive maxReceiveCount", int(redrive.get("maxReceiveCount", -1)), max_receive, sqs_where)
    target = redrive.get("deadLetterTargetArn")
    if target != {"Fn::GetAtt": ["DispatchDeadLetterQueue", "Arn"]}:
        errors.append(f"redrive deadLetterTargetArn is {target!r}, not DispatchDeadLetterQueue's Arn")
    dlq = resource_of_type(resources, "AWS::SQS::Queue", "DispatchDeadLetterQueue")
    expect("DLQ MessageRetentionPeriod", int(dlq.get("MessageRetentionPeriod", -1)),
           dlq_retention, sqs_where)

    # AWS: an SQS event source's queue visibility should be at least 6x the function timeout.
    dispatch = resource_of_type(resources, "AWS::Serverless::Function", "DispatchFunction")
    timeout = int(dispatch.get("Timeout", 3))
    if 6 * timeout > visibility:
        errors.append(f"DispatchFunction Timeout {timeout} s: 6x it exceeds the visibility "
                      f"timeout {visibility} s")

    dispatch_rs_path = FUNCTIONS / "dispatch/src/lib.rs"
    dispatch_rs = dispatch_rs_path.read_text(encoding="utf-8")
    expect("DispatchFunction Timeout", timeout,
           rust_int_const(dispatch_rs, "FUNCTION_TIMEOUT_SECONDS", dispatch_rs_path),
           "functions/dispatch/src/lib.rs")

    # --- the functions
    crate_binaries = set()
    for manifest in sorted(FUNCTIONS.glob("*/Cargo.toml")):
        crate_binaries |= set(re.findall(r'\[\[bin\]\]\s*name = "([^"]+)"', manifest.read_text(encoding="utf-8")))
    template_binaries = {
        r.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
        for r in resources.values()
        if r.get("Type") == "AWS::Serverless::Function"
    }
    expect("Lambda binaries", sorted(template_binaries, key=str), sorted(crate_binaries),
           "functions/*/Cargo.toml")
    for script in BUILD_SCRIPTS:
        m = re.search(r"^functions=\(([^)]*)\)", script.read_text(encoding="utf-8"), re.M)
        listed = set(m.group(1).split()) if m else set()
        expect(f"functions built by {script.relative_to(ROOT)}", sorted(template_binaries, key=str),
               sorted(listed), script.name)

    # --- the operator is told
    functions = {name: r for name, r in resources.items()
                 if r.get("Type") == "AWS::Serverless::Function"}
    log_groups = {name for name, r in resources.items() if r.get("Type") == "AWS::Logs::LogGroup"}
    alarms = {name: r.get("Properties", {}) for name, r in resources.items()
              if r.get("Type") == "AWS::CloudWatch::Alarm"}
    for name, fn in functions.items():
        group = fn.get("Properties", {}).get("LoggingConfig", {}).get("LogGroup", {})
        if not (isinstance(group, dict) and group.get("Ref") in log_groups):
            errors.append(f"{name} logs to no log group of the template (LoggingConfig.LogGroup)")
        for metric in ("Errors", "Throttles"):
            watched = any(
                a.get("Namespace") == "AWS/Lambda" and a.get("MetricName") == metric
                and {"Name": "FunctionName", "Value": {"Ref": name}} in a.get("Dimensions", [])
                for a in alarms.values())
            if not watched:
                errors.append(f"{name} has no alarm on its {metric}")
    for name, alarm in alarms.items():
        if not alarm.get("AlarmActions"):
            errors.append(f"alarm {name} has no AlarmActions: nobody would be told")
    sweeper = next((r for r in functions.values()
                    if r.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
                    == "praxis-sweeper"), None)
    schedules = [e for e in (sweeper or {}).get("Properties", {}).get("Events", {}).values()
                 if e.get("Type") in ("Schedule", "ScheduleV2")]
    if not schedules:
        errors.append("the sweeper (praxis-sweeper) has no schedule")

    if errors:
        print("template.yaml does not match the code:", file=sys.stderr)
        for e in errors:
            print(f"  - {e}", file=sys.stderr)
        return 1
    print(f"template.yaml matches store/keys.rs and provision.rs: keys {pk}/{sk}, "
          f"GSIs {', '.join(sorted(code_indexes))}, TTL {ttl}, "
          f"visibility {visibility} s, maxReceiveCount {max_receive}; "
          f"functions {', '.join(sorted(crate_binaries))}, each with a log group and "
          f"alarms on errors and throttles; {len(alarms)} alarms, each with an action; "
          f"the sweeper on a schedule")
    return 0


if __name__ == "__main__":
    sys.exit(main())
