"""The map file's declared shape: unknown sections and keys, wrong types, one line each."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mapping.defaults import DEFAULT_OPTIONS
from mapping.fieldmap import FieldMap, MapOptions, MapShapeError, parse_map, shape_problems
from mapping.mapfile import dump_map_yaml, load_map_yaml, map_hash
from tests.helpers.mapping_builders import base_map

BIN = Path(sys.executable).with_name("hesk2intercom")


def _entry(m: dict, section: str, hesk_id: int) -> dict:
    return next(e for e in m[section] if e["hesk_id"] == hesk_id)


def test_the_proposal_has_the_declared_shape_and_keeps_its_hash() -> None:
    m = base_map()
    typed = parse_map(load_map_yaml(dump_map_yaml(m)))
    assert isinstance(typed, FieldMap) and typed.options.migrate_ip is False
    assert typed.to_dict() == m and map_hash(typed.to_dict()) == map_hash(m)


def test_option_defaults_are_the_planners_defaults() -> None:
    assert MapOptions().model_dump() == DEFAULT_OPTIONS


@pytest.mark.parametrize(
    ("edit", "line"),
    [
        (
            lambda m: m.update(extras={}),
            "extras: unknown section (allowed: version, target, tickets, options, attributes, "
            "custom_fields, categories, staff, statuses, priorities, resolved)",
        ),
        (
            lambda m: _entry(m, "categories", 1).update(teem="Billing"),
            "categories.1.teem: unknown key (allowed: hesk_id, hesk_name, confidence, reason, "
            "team, tag)",
        ),
        (
            lambda m: _entry(m, "categories", 2).update(team=3),
            "categories.2.team: must be text, not 3",
        ),
        (
            lambda m: m["options"].update(migrate_ip="yes please"),
            "options.migrate_ip: must be true or false, not 'yes please'",
        ),
        (
            lambda m: m["options"].update(max_attachment_bytes=0),
            "options.max_attachment_bytes: must be more than 0, not 0",
        ),
        (
            lambda m: m["options"].update(max_request_bytes=True),
            "options.max_request_bytes: must be an integer, not True",
        ),
        (
            lambda m: _entry(m, "custom_fields", 2).update(migrate="sometimes"),
            "custom_fields.2.migrate: 'sometimes' is not one of auto | true | false",
        ),
        (
            lambda m: _entry(m, "custom_fields", 2).update(options=["Red", ["Blue"]]),
            "custom_fields.2.options[1]: must be text, not ['Blue']",
        ),
        (
            lambda m: _entry(m, "staff", 1).update(hesk_id="one"),
            "staff[0].hesk_id: must be an integer, not 'one'",
        ),
        (
            lambda m: _entry(m, "priorities", 0).pop("value"),
            "priorities.0.value: required, but missing",
        ),
        (
            lambda m: m["attributes"][0].update(data_type="number"),
            "attributes.hesk_ticket_id.data_type: 'number' is not one of 'string', 'integer', "
            "'list', 'decimal', 'boolean', 'datetime'",
        ),
        (lambda m: m.update(statuses={"0": "open"}), "statuses: must be a list, not {'0': 'open'}"),
        (lambda m: m.pop("version"), "version: required, but missing"),
    ],
)
def test_each_wrong_key_or_type_is_one_line_naming_its_path(edit, line) -> None:
    m = base_map()
    edit(m)
    assert shape_problems(m) == [line]
    with pytest.raises(MapShapeError) as err:
        parse_map(m)
    assert err.value.problems == [line]


def test_every_problem_is_listed_not_just_the_first() -> None:
    m = base_map()
    m["categorie"] = []
    _entry(m, "statuses", 3)["state"] = "done"
    assert len(shape_problems(m)) == 2


def test_an_unquoted_numeric_intercom_id_is_read_as_text() -> None:
    m = base_map()
    _entry(m, "custom_fields", 1)["existing_id"] = 301
    assert parse_map(m).custom_fields[0].existing_id == "301"


def test_a_shown_map_with_its_resolved_ids_can_be_confirmed_again() -> None:
    m = copy.deepcopy(base_map())
    m["resolved"] = {"admins": {"1": "102"}, "teams": {}, "fallback_admin_id": "101"}
    assert parse_map(m).resolved is not None
    m["resolved"]["admins"] = {"1": 102}
    assert shape_problems(m) == ["resolved.admins.1: must be text, not 102"]


def test_not_a_mapping_is_refused() -> None:
    with pytest.raises(MapShapeError, match="must be a mapping"):
        parse_map(["version", 1])


def test_map_confirm_refuses_a_bad_file_in_one_line_with_exit_2(tmp_path: Path) -> None:
    m = base_map()
    _entry(m, "categories", 2).update(team=3)
    m["options"]["colour"] = "blue"
    path = tmp_path / "map.yaml"
    path.write_text(dump_map_yaml(m), encoding="utf-8")
    out = subprocess.run(
        [str(BIN), "map", "confirm", "--file", str(path), "--yes"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "1000"},
    )  # no wrapping by rich
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    first = out.stderr.strip().splitlines()[0]
    assert first.startswith(f"error: the map file {path} has 2 problems: ")
    assert "options.colour: unknown key" in first and "categories.2.team: must be text" in first


def test_customer_ticket_url_is_an_absolute_web_address() -> None:
    m = base_map()
    m["options"]["customer_ticket_url"] = "https://help.example.com/en/"
    assert parse_map(m).options.customer_ticket_url == "https://help.example.com/en"
    m["options"]["customer_ticket_url"] = "help.example.com"
    with pytest.raises(MapShapeError) as err:
        parse_map(m)
    assert "customer_ticket_url" in str(err.value) and "not a URL" in str(err.value)
