#!/usr/bin/python3
# tests/e2e/gate_sarif_validate.py — validates SARIF logs against the 2.1.0 schema
#
# Used by tests/e2e/check_sarif.sh. Usage: gate_sarif_validate.py SCHEMA LOG...
# The schema is tests/data/sarif-2.1.0.schema.json, the OASIS SARIF 2.1.0
# JSON schema (errata01) bundled in full. Validates with Draft 4 (the
# schema's $schema) and also checks the URI formats the schema names
# (format "uri" / "uri-reference") by hand, since jsonschema only checks
# formats when optional packages are installed. Exit 0 valid, 1 invalid,
# 77 if jsonschema is missing.
#
# SPDX-License-Identifier: MIT
import json
import re
import sys

try:
    import jsonschema
except ImportError:
    print("SKIP: python3-jsonschema is not installed", file=sys.stderr)
    sys.exit(77)

# RFC 3986: a scheme, then only unreserved, reserved and percent-encoded characters.
URI_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$")
ABS_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def check_uris(node, path, errors):
    """uri / helpUri must be URIs; artifact uris URI references."""
    if isinstance(node, dict):
        for key, val in node.items():
            where = f"{path}/{key}"
            if key in ("uri", "helpUri", "informationUri") and isinstance(val, str):
                if not URI_CHARS.match(val):
                    errors.append(f"{where}: not a URI reference: {val!r}")
                if key != "uri" and not ABS_URI.match(val):
                    errors.append(f"{where}: not an absolute URI: {val!r}")
            check_uris(val, where, errors)
    elif isinstance(node, list):
        for i, val in enumerate(node):
            check_uris(val, f"{path}/{i}", errors)


def main():
    with open(sys.argv[1]) as f:
        schema = json.load(f)
    validator = jsonschema.Draft4Validator(schema)
    bad = 0
    for name in sys.argv[2:]:
        with open(name) as f:
            log = json.load(f)
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in validator.iter_errors(log)]
        check_uris(log, "", errors)
        for e in errors[:20]:
            print(f"{name}: {e}", file=sys.stderr)
        bad += bool(errors)
        if not errors:
            print(f"{name}: valid SARIF 2.1.0")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
