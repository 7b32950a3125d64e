"""Extract the part of Intercom's official OpenAPI description that the simulator implements.

Source: ``intercom/Intercom-OpenAPI`` ``descriptions/2.16/api.intercom.io.yaml`` at commit
``8889625a7b931d8649e18726e7f872ff073520fc`` (MIT licence). The extract keeps the chosen
operations byte-for-byte (as parsed) plus every component they reference, transitively, and
is written as JSON beside this file (``intercom_2_16_subset.json``). Known defects of the
description are *not* patched here: :mod:`simulator.validation` patches them at load time,
each with a comment saying why, so this file stays a faithful, checkable extract.

The full description is vendored, unchanged, as ``vendor/intercom/api.intercom.io.yaml``
(its sha256 and source are recorded in ``vendor/vendored.json``). Run from a checkout:
``python -m simulator.make_subset`` rewrites the subset and records its new sha256 there.
"""

from __future__ import annotations

import argparse
import hashlib
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
#: The vendored full description and the record of vendored files (in a checkout only).
VENDORED_SOURCE = Path(__file__).resolve().parent.parent / "vendor/intercom/api.intercom.io.yaml"
VENDORED_RECORD = VENDORED_SOURCE.parent.parent / "vendored.json"

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
    ("post", "/tickets/{ticket_id}/tags"),
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


def load_description(source: Path) -> dict[str, Any]:
    """The parsed full description at ``source``."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(source.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506


def render_subset(subset: dict[str, Any]) -> str:
    """The subset as the JSON text shipped in :data:`OUTPUT`."""
    return json.dumps(subset, indent=1, sort_keys=False) + "\n"


def record_sha256(record: Path, path: str, digest: str) -> bool:
    """Set the recorded sha256 of the vendored file ``path`` (repo-relative) in ``record``;
    False when the record has no entry for it."""
    data = json.loads(record.read_text(encoding="utf-8"))
    entries = [f for f in data["files"] if f["path"] == path]
    for entry in entries:
        entry["sha256"] = digest
    record.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return bool(entries)


def main(argv: list[str] | None = None) -> None:
    """Read the full description and write :data:`OUTPUT` (and record its sha256)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "source",
        type=Path,
        nargs="?",
        default=VENDORED_SOURCE,
        help="the full api.intercom.io.yaml (2.16); default: the vendored copy",
    )
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if not args.source.is_file():
        parser.error(
            f"{args.source} not found: pass the full api.intercom.io.yaml "
            "(a checkout has it in vendor/intercom/)"
        )
    subset = build_subset(load_description(args.source))
    text = render_subset(subset)
    args.out.write_text(text, encoding="utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    print(f"wrote {args.out} ({len(subset['paths'])} paths), sha256 {digest}")
    if args.out.resolve() == OUTPUT.resolve() and VENDORED_RECORD.exists():
        relative = OUTPUT.resolve().relative_to(VENDORED_RECORD.parent.parent).as_posix()
        if record_sha256(VENDORED_RECORD, relative, digest):
            print(f"recorded it in {VENDORED_RECORD}")


if __name__ == "__main__":
    main()
