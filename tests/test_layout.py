"""The layout's import direction, read with ``ast`` from the source (imports inside
functions included): cli -> commands -> engine -> {mapping, intercom_api, ledger, hesk};
reports read the ledger; workers (what runs under Dramatiq) run the engine. And every
``# type: ignore`` of the tree says which error and why.

The suite's own layout too: what tests share is in ``tests/helpers/`` (nothing imports a
conftest or a ``test_*`` module), and the simulator fixture is defined once, in
``tests/conftest.py``."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (
    "cli.py",
    "core",
    "hesk",
    "mapping",
    "intercom_api",
    "ledger",
    "engine",
    "commands",
    "workers",
    "reports",
    "simulator",
    "migrations",
)
#: workers/ modules the engine and commands may use: the broker (sending a unit) and the
#: shared pacer. The rest of workers/ (actors, watchdog) runs the engine, never the reverse.
WORKERS_INFRA = ("workers.broker", "workers.pacing")

#: Which part may import which (besides itself). Anything not listed is refused.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "hesk": {"core"},
    "intercom_api": {"core"},
    "ledger": {"core"},
    "migrations": {"ledger"},
    "simulator": {"core"},
    # Pure: no ledger, database, HTTP or Dramatiq; only the record types and text helpers
    # of hesk/ and the pure facts of core/ (hashes, object names, Intercom's limits),
    # checked module by module below.
    "mapping": {"core", "hesk"},
    "workers.broker": {"core"},
    "workers.pacing": {"core", "intercom_api"},
    "engine": {"core", "hesk", "intercom_api", "ledger", "mapping", *WORKERS_INFRA},
    "workers": {"core", "ledger", "engine", *WORKERS_INFRA},
    "reports": {"core", "hesk", "intercom_api", "ledger", "mapping"},
    "commands": {
        "core",
        "hesk",
        "intercom_api",
        "ledger",
        "mapping",
        "engine",
        "reports",
        "workers.broker",
    },
    "cli": {"core", "commands", "simulator"},
}
#: The only modules of other parts mapping/ may import (all pure).
MAPPING_MAY_USE = {
    "core.hashing",
    "core.intercom_limits",
    "core.objects",
    "hesk.records",
    "hesk.text",
}
#: Parts restructured into one-way layers: no import cycle among their modules at all.
ACYCLIC = ("cli", "commands", "engine", "workers", "ledger", "reports", "mapping")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for entry in PACKAGES:
        path = ROOT / entry
        for file in [path] if path.is_file() else sorted(path.rglob("*.py")):
            name = ".".join(file.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = file
    return found


MODULES = _modules()


def part(module: str) -> str:
    """The layer a module belongs to."""
    if module.startswith(WORKERS_INFRA):
        return module.split(".")[0] + "." + module.split(".")[1]
    return module.split(".")[0]


def imports_of(file: Path) -> set[str]:
    """Every project module ``file`` imports, at any depth of the file."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            subs = [f"{node.module}.{a.name}" for a in node.names]
            names = [s for s in subs if s in MODULES] or [node.module]
        else:
            continue
        out.update(n for n in names if n in MODULES)
    return out


GRAPH = {name: imports_of(file) - {name} for name, file in MODULES.items()}


def test_every_import_follows_the_allowed_direction() -> None:
    wrong = [
        f"{src} imports {dst}"
        for src, targets in GRAPH.items()
        for dst in sorted(targets)
        if part(dst) != part(src) and part(dst) not in ALLOWED[part(src)]
    ]
    assert wrong == []


def test_mapping_stays_pure() -> None:
    outside = {
        f"{src} imports {dst}"
        for src, targets in GRAPH.items()
        if part(src) == "mapping"
        for dst in targets
        if part(dst) != "mapping" and dst not in MAPPING_MAY_USE
    }
    assert outside == set()


def test_workers_hold_only_what_runs_under_dramatiq() -> None:
    held = {m for m in MODULES if part(m) in ("workers", *WORKERS_INFRA)}
    assert held == {
        "workers",
        "workers.actors",
        "workers.broker",
        "workers.pacing",
        "workers.watchdog",
    }


def test_no_import_cycles_in_the_layers() -> None:
    graph = defaultdict(set)
    for src, targets in GRAPH.items():
        if part(src).split(".")[0] in ACYCLIC:
            graph[src] = {t for t in targets if part(t).split(".")[0] in ACYCLIC}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, path)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    assert cycles == []


def test_the_graph_is_read_from_the_source() -> None:
    """The checks above see imports inside functions too (cli imports lazily)."""
    assert "commands.migrate" in GRAPH["cli"]
    assert "engine.units" in GRAPH["workers.actors"]


#: Top-level folders that hold no source of ours (besides the hidden ones: .venv, caches).
NOT_SOURCE = {"build", "dist", "demo-output", "hesk2intercom.egg-info"}
#: ``# type: ignore[code, code]  # why``: the codes silenced, then the reason.
EXPLAINED_IGNORE = re.compile(
    r"type:\s*ignore\[[a-z0-9-]+(?:,\s*[a-z0-9-]+)*\][ \t]*#[ \t]*[A-Za-z][^#]{3,}"
)


def unexplained_ignores(source: str) -> list[int]:
    """The lines of ``source`` with a ``# type: ignore`` comment lacking a code or a reason."""
    return [
        tok.start[0]
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
        and re.search(r"type:\s*ignore", tok.string)
        and not EXPLAINED_IGNORE.search(tok.string)
    ]


def _python_files() -> list[Path]:
    files: list[Path] = []
    for entry in sorted(ROOT.iterdir()):
        if entry.name.startswith(".") or entry.name in NOT_SOURCE:
            continue
        if entry.is_dir():
            files += sorted(entry.rglob("*.py"))
        elif entry.suffix == ".py":
            files.append(entry)
    return files


def test_every_type_ignore_names_its_error_and_why() -> None:
    files = _python_files()
    assert ROOT / "tests" / "test_layout.py" in files and MODULES["engine.units"] in files
    bare = [
        f"{file.relative_to(ROOT)}:{line}"
        for file in files
        for line in unexplained_ignores(file.read_text(encoding="utf-8"))
    ]
    assert bare == []


def test_the_type_ignore_check_reads_comments_only() -> None:
    """A code and a reason pass; a bare ignore, a code alone or a reason alone do not."""
    source = (
        "a = f()  # type: ignore[attr-defined]  # the library has no stubs\n"
        "b = f()  # type: ignore\n"
        "c = f()  # type: ignore[arg-type]\n"
        "d = f()  # type: ignore  # the library has no stubs\n"
        'e = "# type: ignore"\n'
        "g = f()  # noqa: E501  # type: ignore[misc, union-attr]  # checked just above\n"
    )
    assert unexplained_ignores(source) == [2, 3, 4]


# --------------------------------------------------------------------------- facts stated once


def _tree(module: str) -> ast.Module:
    return ast.parse(MODULES[module].read_text(encoding="utf-8"))


def test_mapping_imports_nothing_from_the_ledger() -> None:
    """Hashes and object names come from core/: mapping/ never reaches into ledger/."""
    assert {
        f"{src} imports {dst}"
        for src, targets in GRAPH.items()
        if part(src) == "mapping"
        for dst in targets
        if part(dst) == "ledger"
    } == set()


#: Modules that hash for another reason than a stored key or id, and why.
HASHING_ELSEWHERE = {
    "hesk.contacts": "an in-memory set of the e-mails already seen (never stored)",
    "hesk.demo_claim": "the demo's own files, compared byte for byte",
    "hesk.demo_data": "the demo's made-up attachment names and contents",
    "simulator.make_subset": "the vendored OpenAPI subset's checksum",
}


def test_stored_hashes_are_made_only_in_core_hashing() -> None:
    """canonical_json and every digest kept in a ledger or in Intercom: core/hashing.py."""
    users = {
        m
        for m in MODULES
        for node in ast.walk(_tree(m))
        if (isinstance(node, ast.Import) and any(a.name == "hashlib" for a in node.names))
        or (isinstance(node, ast.ImportFrom) and node.module == "hashlib")
    }
    assert users - {"core.hashing"} == set(HASHING_ELSEWHERE)
    defined = {
        f"{m}.{node.name}"
        for m in MODULES
        for node in _tree(m).body
        if isinstance(node, ast.FunctionDef) and node.name in ("canonical_json", "content_hash")
    }
    assert defined == {"core.hashing.canonical_json", "core.hashing.content_hash"}


def test_only_core_objects_lists_the_objects() -> None:
    """No literal tuple, list or set of four or more object names outside core/objects.py."""
    from core.objects import OBJECTS  # noqa: PLC0415

    names = set(OBJECTS)
    copies = [
        f"{m}:{node.lineno}"
        for m in MODULES
        if m != "core.objects"
        for node in ast.walk(_tree(m))
        if isinstance(node, ast.Tuple | ast.List | ast.Set)
        and len({e.value for e in node.elts if isinstance(e, ast.Constant)} & names) >= 4
    ]
    assert copies == []


def test_every_order_holds_every_object_once() -> None:
    from core.objects import (  # noqa: PLC0415
        CAPTURE_ORDER,
        DEPENDENCY_ORDER,
        OBJECTS,
        PHASES,
        TICKET_TEMPLATE,
        UNIT_OBJECTS,
        WORKSPACE,
    )
    from hesk.records import RECORD_CLASSES  # noqa: PLC0415

    assert len(set(OBJECTS)) == len(OBJECTS)
    assert sorted(DEPENDENCY_ORDER) == sorted(set(OBJECTS) - {"history"})
    assert sorted(CAPTURE_ORDER) == sorted(DEPENDENCY_ORDER)
    phased = [o for _name, objects in PHASES for o in objects]
    assert sorted(phased) == sorted({*OBJECTS, WORKSPACE})
    assert set(UNIT_OBJECTS) < set(phased)
    assert set(RECORD_CLASSES) == {*OBJECTS, TICKET_TEMPLATE}


def test_in_doubt_lookups_are_chosen_by_kind_alone() -> None:
    """One settler per LookupKind, and no path is taken apart to choose or feed a lookup."""
    from engine.matching import SETTLERS  # noqa: PLC0415
    from mapping.steps import LookupKind  # noqa: PLC0415

    assert set(SETTLERS) == set(LookupKind)
    for module in ("engine.matching", "intercom_api.lookups"):
        parsed = [
            f"{module}:{node.lineno}"
            for node in ast.walk(_tree(module))
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("split", "endswith", "startswith", "partition", "rsplit")
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "path"
        ]
        assert parsed == []


def test_sql_on_the_ledger_lives_in_ledger() -> None:
    """The engine, commands, reports and workers send no SQL of their own."""
    calls = [
        f"{m}:{node.lineno}"
        for m in MODULES
        if part(m).split(".")[0] in ("engine", "commands", "reports", "workers")
        for node in ast.walk(_tree(m))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("exec_driver_sql", "execute", "executemany")
        and not (isinstance(node.func.value, ast.Name) and node.func.value.id == "pipe")
    ]
    assert calls == []


# -- the test suite's own layout ------------------------------------------------------------

TESTS = ROOT / "tests"
#: Where Python that may import test helpers lives.
SUITE_FILES = sorted([*TESTS.rglob("*.py"), *(ROOT / "benchmarks").rglob("*.py")])
#: Names a simulator fixture has had; only ``sim`` of tests/conftest.py may exist.
SIMULATOR_FIXTURES = {"sim", "simulator", "sim_session"}
#: Calls that start a simulator server.
STARTS_A_SIMULATOR = {"running_simulator", "simulator_with"}


def _package(file: Path) -> str:
    """The package a module file is in (``tests/helpers/x.py`` -> ``tests.helpers``)."""
    parts = file.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts if file.name == "__init__.py" else parts[:-1])


def imported_modules(source: str, package: str) -> set[str]:
    """Every module ``source`` (a module of ``package``) imports, relative imports resolved;
    ``from a import b`` gives both ``a`` and ``a.b``, since ``b`` may be a module."""
    here = package.split(".")
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = here[: len(here) - (node.level - 1)]
                base = ".".join([*parent, *([base] if base else [])])
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)
    return out


def _is_test_or_conftest(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return module.startswith("tests") and (last == "conftest" or last.startswith("test_"))


def test_nothing_imports_a_conftest_or_a_test_module() -> None:
    """Shared code lives in tests/helpers/: a conftest holds fixtures, a test module tests."""
    wrong = sorted(
        f"{file.relative_to(ROOT)} imports {module}"
        for file in SUITE_FILES
        for module in imported_modules(file.read_text(encoding="utf-8"), _package(file))
        if _is_test_or_conftest(module)
    )
    assert wrong == []


def simulator_fixtures(source: str) -> list[str]:
    """Functions of ``source`` named like a simulator fixture or starting a simulator."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef):
            continue
        calls = {
            call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")
            for call in ast.walk(node)
            if isinstance(call, ast.Call)
        }
        if node.name in SIMULATOR_FIXTURES or calls & STARTS_A_SIMULATOR:
            found.append(node.name)
    return found


def test_only_the_root_conftest_defines_the_simulator_fixture() -> None:
    """One session simulator (``sim``); other limits come from ``simulator_with``."""
    root = TESTS / "conftest.py"
    others = {
        str(c.relative_to(ROOT)): found
        for c in sorted(TESTS.rglob("conftest.py"))
        if c != root
        if (found := simulator_fixtures(c.read_text(encoding="utf-8")))
    }
    assert others == {}
    assert simulator_fixtures(root.read_text(encoding="utf-8")) == ["sim"]


def test_tests_start_a_simulator_only_through_simulator_with() -> None:
    """``running_simulator`` is called in one place, so every test simulator has the suite's
    defaults (token, unthrottled) unless the test says otherwise."""
    calling = sorted(
        str(file.relative_to(ROOT))
        for file in TESTS.rglob("*.py")
        if file != TESTS / "helpers" / "simulator.py"
        and any(
            isinstance(n, ast.Call) and getattr(n.func, "id", "") == "running_simulator"
            for n in ast.walk(ast.parse(file.read_text(encoding="utf-8")))
        )
    )
    assert calling == []


def test_the_suite_checks_see_what_they_look_for() -> None:
    """The checks above catch the imports and fixtures the suite had before tests/helpers/."""
    imports = imported_modules(
        "from .conftest import error_code\n"
        "from tests.workers import test_migrate_cli\n"
        "from tests.workers.conftest import TOKEN\n"
        "from tests.helpers.simulator import TOKEN\n",
        "tests.simulator",
    )
    assert {m for m in imports if _is_test_or_conftest(m)} == {
        "tests.simulator.conftest",
        "tests.workers.test_migrate_cli",
        "tests.workers.conftest",
    }
    assert simulator_fixtures(
        "@pytest.fixture(scope='session')\n"
        "def simulator():\n"
        "    with running_simulator(token=TOKEN) as s:\n"
        "        yield s\n"
        "@pytest.fixture\n"
        "def apps():\n"
        "    with simulator_with(TOKENS) as s:\n"
        "        yield s\n"
        "def seed(sim):\n"
        "    sim.reset()\n"
    ) == ["simulator", "apps"]
