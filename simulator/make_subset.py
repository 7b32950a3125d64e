"""Extract the part of Intercom's official OpenAPI description that the simulator implements.

Source: ``intercom/Intercom-OpenAPI`` ``descriptions/2.16/api.intercom.io.yaml`` at commit
``8889625a7b931d8649e18726e7f872ff073520fc`` (MIT licence). The extract keeps the chosen
operations byte-for-byte (as parsed) plus every component they reference, transitively, and
is written as JSON beside this file (``intercom_2_16_subset.json``). Known defects of the
description are *not* patched here: :mod:`simulator.validation` patches them at load time,
each with a comment saying why, so this file stays a faithful, checkable extract.

Run: ``python -m simulator.make_subset ../shared/intercom/openapi.yaml``
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import yaml

SOURCE = {
    "repository": "https://github.com/intercom/Intercom-OpenAPI",
    "path": "descriptions/2.16/api.intercom.io.yaml",
    "commit": "8889625a7b931d8649e18726e7f872ff073520fc",
    "license": "MIT",
}
OUTPUT = Path(__file__).with_name("intercom_2_16_subset.json")

#: (method, path) of every operation the simulator implements.
OPERATIONS: tuple[tuple[str, str], ...] = (
    ("get", "/me"),
    ("get", "/admins"),
    ("get", "/admins/{admin_id}"),
    ("get", "/teams"),
    ("get", "/teams/{team_id}"),
    ("get", "/contacts"),
    ("post", "/contacts"),
    ("get", "/contacts/{contact_id}"),
    ("put", "/contacts/{contact_id}"),
    ("delete", "/contacts/{contact_id}"),
    ("post", "/contacts/search"),
    ("get", "/contacts/find_by_external_id/{external_id}"),
    ("post", "/contacts/{contact_id}/notes"),
    ("post", "/contacts/{contact_id}/tags"),
    ("get", "/data_attributes"),
    ("post", "/data_attributes"),
    ("put", "/data_attributes/{data_attribute_id}"),
    ("get", "/conversations/attributes"),
    ("post", "/conversations/attributes"),
    ("get", "/conversations/attributes/{id}"),
    ("put", "/conversations/attributes/{id}"),
    ("delete", "/conversations/attributes/{id}"),
    ("post", "/conversations/attributes/{id}/options"),
    ("get", "/tags"),
    ("post", "/tags"),
    ("delete", "/tags/{tag_id}"),
    ("get", "/conversations"),
    ("post", "/conversations"),
    ("get", "/conversations/{conversation_id}"),
    ("put", "/conversations/{conversation_id}"),
    ("delete", "/conversations/{conversation_id}"),
    ("post", "/conversations/{conversation_id}/reply"),
    ("post", "/conversations/{conversation_id}/parts"),
    ("post", "/conversations/search"),
    ("post", "/conversations/{conversation_id}/tags"),
    ("get", "/help_center/help_centers"),
    ("get", "/help_center/collections"),
    ("post", "/help_center/collections"),
    ("get", "/help_center/collections/{collection_id}"),
    ("put", "/help_center/collections/{collection_id}"),
    ("delete", "/help_center/collections/{collection_id}"),
    ("get", "/articles"),
    ("post", "/articles"),
    ("get", "/articles/{article_id}"),
    ("put", "/articles/{article_id}"),
    ("delete", "/articles/{article_id}"),
    ("get", "/articles/search"),
    ("get", "/ticket_states"),
    ("get", "/ticket_types"),
    ("post", "/ticket_types"),
    ("get", "/ticket_types/{ticket_type_id}"),
    ("put", "/ticket_types/{ticket_type_id}"),
    ("post", "/ticket_types/{ticket_type_id}/attributes"),
    ("put", "/ticket_types/{ticket_type_id}/attributes/{attribute_id}"),
    ("post", "/tickets"),
    ("get", "/tickets/{ticket_id}"),
    ("put", "/tickets/{ticket_id}"),
    ("delete", "/tickets/{ticket_id}"),
    ("post", "/tickets/{ticket_id}/reply"),
    ("post", "/tickets/search"),
)

_REF = re.compile(r"^#/components/([^/]+)/([^/]+)$")


def _refs(node: Any) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and (m := _REF.match(ref)):
            found.add((m.group(1), m.group(2)))
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def build_subset(full: dict[str, Any]) -> dict[str, Any]:
    """The subset of the parsed description ``full`` covering :data:`OPERATIONS`."""
    paths: dict[str, dict[str, Any]] = {}
    for method, path in OPERATIONS:
        item = full["paths"][path]
        paths.setdefault(path, {})[method] = item[method]
        if "parameters" in item:
            paths[path]["parameters"] = item["parameters"]
    components: dict[str, dict[str, Any]] = {}
    pending = _refs(paths)
    seen: set[tuple[str, str]] = set()
    while pending:
        kind, name = pending.pop()
        if (kind, name) in seen:
            continue
        seen.add((kind, name))
        node = full["components"][kind][name]
        components.setdefault(kind, {})[name] = node
        pending |= _refs(node) - seen
    components = {k: dict(sorted(v.items())) for k, v in sorted(components.items())}
    if "securitySchemes" in full.get("components", {}):
        components["securitySchemes"] = full["components"]["securitySchemes"]
    info = dict(full["info"])
    info["x-subset-of"] = SOURCE
    return {
        "openapi": full["openapi"],
        "info": info,
        "servers": full.get("servers", []),
        "security": full.get("security", []),
        "paths": paths,
        "components": components,
    }


def main(argv: list[str] | None = None) -> None:
    """Read the full description and write :data:`OUTPUT`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the full api.intercom.io.yaml (2.16)")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    full = yaml.load(args.source.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
    subset = build_subset(full)
    args.out.write_text(json.dumps(subset, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(subset['paths'])} paths)")


if __name__ == "__main__":
    main()
