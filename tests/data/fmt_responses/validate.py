#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Checks the golden files of this directory against OpenAI's OpenAPI spec: every resp_*.out.json
# must be a valid `Response`, every event of every stream_*.sse a valid member of
# `ResponseStreamEvent` (chosen by its type), with `event:` equal to data.type and
# sequence_number counting from 0. A test-data step, run by hand after regenerating goldens:
#   python3 tests/data/fmt_responses/validate.py [path/to/openai-openapi.json]
# Two known gaps between the spec and the live API are tolerated, as the API itself sends them:
# `usage: null` on in-progress responses, and `nullable: true` (OpenAPI 3.0) fields.
import glob
import json
import os
import sys

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/reference/openai-openapi.json"


def openapi30_nullable(node):
    """Rewrites OpenAPI 3.0 `nullable: true` as a JSON-Schema null alternative."""
    if isinstance(node, dict):
        node = {k: openapi30_nullable(v) for k, v in node.items()}
        if node.pop("nullable", False):
            node = {"anyOf": [node, {"type": "null"}]}
        return node
    if isinstance(node, list):
        return [openapi30_nullable(v) for v in node]
    return node


def main():
    with open(SPEC) as f:
        spec = json.load(f)
    root = {"components": openapi30_nullable(spec["components"])}
    schemas = root["components"]["schemas"]
    schemas["ResponseUsage"] = {"anyOf": [schemas["ResponseUsage"], {"type": "null"}]}
    by_type = {}
    for ref in schemas["ResponseStreamEvent"]["anyOf"]:
        name = ref["$ref"].rsplit("/", 1)[1]
        for t in schemas[name]["properties"]["type"].get("enum", []):
            by_type[t] = name

    def check(doc, name, where):
        schema = dict(root, **{"$ref": "#/components/schemas/" + name})
        errors = list(jsonschema.Draft202012Validator(schema).iter_errors(doc))
        for e in errors[:5]:
            print(f"{where}: {name}: {list(e.absolute_path)}: {e.message[:300]}")
        return not errors

    ok = True
    count = 0
    for path in sorted(glob.glob(os.path.join(HERE, "resp_*.out.json"))):
        with open(path) as f:
            ok &= check(json.load(f), "Response", os.path.basename(path))
        count += 1
    for path in sorted(glob.glob(os.path.join(HERE, "stream_*.sse"))):
        with open(path) as f:
            blocks = [b for b in f.read().split("\n\n") if b]
        for seq, block in enumerate(blocks):
            lines = block.split("\n")
            where = f"{os.path.basename(path)} event {seq}"
            if len(lines) != 2 or not lines[0].startswith("event: ") or not lines[1].startswith("data: "):
                print(f"{where}: not one event line and one data line")
                ok = False
                continue
            data = json.loads(lines[1][6:])
            if data.get("type") != lines[0][7:] or data.get("sequence_number") != seq:
                print(f"{where}: event name / type / sequence_number mismatch")
                ok = False
            if data.get("type") not in by_type:
                print(f"{where}: unknown event type {data.get('type')}")
                ok = False
                continue
            ok &= check(data, by_type[data["type"]], where)
            count += 1
    print(f"{count} documents checked: {'ok' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
