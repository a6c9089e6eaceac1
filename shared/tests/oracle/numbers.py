#!/usr/bin/env python3
# Oracle for praxis-sms phone numbers: libphonenumber (Python port `phonenumbers`,
# pinned to 9.0.33, the metadata the Rust `phonenumber` crate ships) as reference.
#
# Input:  JSON lines {"raw": "...", "region": "DE"} on stdin.
# Output: one JSON line per input, in order:
#         {"e164": "+49..." | null, "valid": bool, "type": "MOBILE" | ...}
#         e164 is null (valid false, type "UNKNOWN") when parsing fails.
#
# Install: python3 -m venv oracle/.venv && oracle/.venv/bin/pip install phonenumbers==9.0.33
import json
import sys

try:
    import phonenumbers
    from phonenumbers import PhoneNumberType
except ImportError:
    sys.stderr.write(
        "python package 'phonenumbers' is missing; install it with: "
        "python3 -m venv oracle/.venv && oracle/.venv/bin/pip install phonenumbers==9.0.33\n"
    )
    sys.exit(3)

EXPECTED_VERSION = "9.0.33"

# Reverse map of the PhoneNumberType constants, so the output names the type the
# way libphonenumber's Java/C++ enums do.
TYPE_NAMES = {
    value: name
    for name, value in vars(PhoneNumberType).items()
    if name.isupper() and isinstance(value, int)
}


def answer(raw, region):
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return {"e164": None, "valid": False, "type": "UNKNOWN"}
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return {
        "e164": e164,
        "valid": phonenumbers.is_valid_number(number),
        "type": TYPE_NAMES.get(phonenumbers.number_type(number), "UNKNOWN"),
    }


def main():
    if phonenumbers.__version__ != EXPECTED_VERSION:
        sys.stderr.write(
            "phonenumbers %s found, but the oracle needs %s (the crate's metadata); "
            "install it with: oracle/.venv/bin/pip install phonenumbers==%s\n"
            % (phonenumbers.__version__, EXPECTED_VERSION, EXPECTED_VERSION)
        )
        sys.exit(4)
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        query = json.loads(line)
        out.write(json.dumps(answer(query["raw"], query.get("region") or None)))
        out.write("\n")
    out.flush()


if __name__ == "__main__":
    main()
