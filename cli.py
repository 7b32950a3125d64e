"""The ``hesk2intercom`` command line: thin commands that call into the packages.

Each command parses its options, calls one function, renders the answer and maps our errors
to one line and an exit code (0 done, 2 usage or configuration, 3 preflight blockers,
4 work left pending, 5 verify found a difference). ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from core.errors import H2IError
from core.intercom_limits import (
    APP_CALLS_PER_WINDOW,
    MAX_REQUEST_BYTES,
    WORKSPACE_CALLS_PER_WINDOW,
)
from core.logs import configure_logging, register_secret
from core.settings import Settings, load_settings, settings_help

EXIT_USAGE = 2
EXIT_BLOCKED = 3
EXIT_PENDING = 4
EXIT_DIFFERENCE = 5

console = Console()
err_console = Console(stderr=True)


class _State:
    debug = False


class App(typer.Typer):
    """Typer app that turns our errors into one line and an exit code."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except H2IError as err:
            if _State.debug:
                raise
            # Messages may quote Hesk data: never read them as markup; one line each.
            err_console.print(
                f"[bold red]error:[/] {escape(err.message)}", highlight=False, soft_wrap=True
            )
            if err.hint:
                err_console.print(
                    f"[dim]hint:[/] {escape(err.hint)}", highlight=False, soft_wrap=True
                )
            sys.exit(err.exit_code)


HELP = f"""Move a Hesk helpdesk's whole history into Intercom, exactly once.

Typical journey: discover -> map propose / map confirm -> preflight -> migrate --sample 25
-> verify -> migrate -> report -> idmap / redirects -> delta / cutover (rollback at any
point).

Exit codes: 0 done (quarantines are reported, not failures), 2 usage or configuration
error, 3 preflight found blockers, 4 work left pending, 5 verify found a difference.

Settings (environment variables, or keys of an optional hesk2intercom.toml; the file's
path can be set with H2I_CONFIG_FILE). Secrets come only from the environment or the file:

\b
{settings_help()}
"""

app = App(
    help=HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
map_app = App(
    help="Propose, show and confirm the Hesk -> Intercom field map.", no_args_is_help=True
)
app.add_typer(map_app, name="map")


@app.callback()
def main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    log_json: Annotated[
        bool | None,
        typer.Option("--log-json/--log-console", help="Log format (default: by terminal)."),
    ] = None,
) -> None:
    """Move a Hesk helpdesk's whole history into Intercom, exactly once."""
    _State.debug = debug
    configure_logging(json=log_json, level="DEBUG" if debug else "INFO")


def settings() -> Settings:
    """The settings in force, with the token registered for redaction."""
    s = load_settings()
    register_secret(s.token_value())
    return s


# --- ledger commands ---


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the migration's progress per object, from the ledger."""
    from commands.status import render_status, status_summary

    summary = status_summary(settings())
    if as_json:
        import json

        console.print_json(json.dumps(summary))
    else:
        render_status(summary, console)


# --- end ledger commands ---

# --- hesk commands ---


@app.command()
def discover(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Scan the Hesk source (H2I_HESK_URL, or H2I_HESK_EXPORT_FILE) and report its scope."""
    import json

    from commands.discover import discover_source, show_discovery

    report = discover_source(settings())
    if as_json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")
    else:
        show_discovery(report, console)


@app.command("demo-data")
def demo_data(
    database: Annotated[
        str,
        typer.Option(
            help="Name of the demo database to (re)create on H2I_HESK_URL's server "
            "(never taken from H2I_HESK_URL)."
        ),
    ],
    tickets: Annotated[int, typer.Option(min=1, help="How many tickets to generate.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 1,
    attachments_dir: Annotated[
        Path | None,
        typer.Option(
            help="Folder for attachment files (default: demo-output/DATABASE/"
            "attachments; never H2I_HESK_ATTACHMENTS_DIR)."
        ),
    ] = None,
    clean: Annotated[
        bool, typer.Option("--clean", help="First delete the files demo-data wrote there.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace a database or use a folder that holds things "
            "demo-data did not create (their files are still never touched).",
        ),
    ] = False,
) -> None:
    """(Re)create a realistic demo Hesk database, with every kind of dirty data planted."""
    from commands.discover import make_demo_data

    summary, folder = make_demo_data(
        settings(),
        tickets=tickets,
        seed=seed,
        database=database,
        attachments_dir=attachments_dir,
        clean=clean,
        force=force,
    )
    console.print(
        f"[bold]{escape(summary.database)}[/]: {summary.tickets:,} tickets, "
        f"{summary.replies:,} replies, {summary.notes:,} notes, {summary.customers:,} "
        f"customers, {summary.files_written:,} files in {escape(str(folder))} "
        f"({summary.seconds}s)"
    )
    for kind, ids in sorted(summary.dirty.items()):
        console.print(f"  dirty {kind}: {', '.join(ids[:5])}", highlight=False, markup=False)


# --- end hesk commands ---

# --- simulator command ---


@app.command()
def simulator(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8088,
    rate_limit: Annotated[
        int,
        typer.Option("--rate-limit", min=1, help="Requests per app (token) per 10-second window."),
    ] = APP_CALLS_PER_WINDOW,
    workspace_rate_limit: Annotated[
        int,
        typer.Option(
            "--workspace-rate-limit",
            min=1,
            help="Requests per 10-second window for all apps together (Intercom: 25,000/min).",
        ),
    ] = WORKSPACE_CALLS_PER_WINDOW,
    tokens: Annotated[
        str,
        typer.Option(
            "--tokens",
            help="Tokens A,B,C the simulator accepts, one private app each "
            "(default: H2I_INTERCOM_TOKEN). Rehearsal tokens only.",
        ),
    ] = "",
    faults: Annotated[
        str,
        typer.Option(
            help="Fault rates, e.g. 'rate_429=0.02,rate_5xx=0.02,rate_lost_response=0.05,"
            "latency_ms=0,rate_timeout=0,seed=1'."
        ),
    ] = "",
    state: Annotated[
        Path | None, typer.Option(help="Load the workspace from FILE and keep saving it there.")
    ] = None,
    no_validate: Annotated[
        bool, typer.Option("--no-validate", help="Skip request validation (benchmarks).")
    ] = False,
    max_body_bytes: Annotated[
        int,
        typer.Option("--max-body-bytes", help="Larger request bodies get a 413 (Intercom's)."),
    ] = MAX_REQUEST_BYTES,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            help="Another Host name the admin API (/_sim) answers, e.g. a Docker service name.",
        ),
    ] = None,
) -> None:
    """Run a local Intercom (API 2.16) to rehearse on; accepts only its tokens (--tokens,
    else H2I_INTERCOM_TOKEN), each one private app of the simulated workspace."""
    from core.paths import writable_file
    from core.tokens import parse_tokens
    from simulator.app import SimulatorOptions
    from simulator.faults import FaultConfig, FaultSpecError
    from simulator.server import PortInUse, listen, serve

    if state is not None:
        writable_file(state, "--state")
    register_secret(tokens)
    token = parse_tokens(tokens) if tokens else settings().tokens
    if not token:
        err_console.print(
            "[bold red]error:[/] H2I_INTERCOM_TOKEN is not set: export the token the "
            "simulator should accept (any string you like).",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_USAGE)
    try:
        fault_config = FaultConfig.parse(faults)
    except FaultSpecError as exc:
        err_console.print(f"[bold red]error:[/] --faults: {exc}", highlight=False)
        raise typer.Exit(EXIT_USAGE) from exc
    try:
        sock = listen(host, port)
    except PortInUse as exc:
        err_console.print(f"[bold red]error:[/] {exc.message}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from exc
    console.print(f"Intercom simulator on http://{host}:{port} (Ctrl-C to stop)")
    options = SimulatorOptions(
        token=token,
        rate_limit=rate_limit,
        workspace_rate_limit=max(workspace_rate_limit, rate_limit),
        faults=fault_config,
        state_file=state,
        validate=not no_validate,
        max_body_bytes=max_body_bytes,
        allowed_hosts=tuple(allow_host or ()),
    )
    serve(host, port, options, sock=sock)


# --- end simulator command ---


@app.command()
def services(
    embedded: Annotated[
        bool,
        typer.Option(
            "--embedded",
            help="Start an embedded PostgreSQL (ledger) and Valkey "
            "(Redis broker) and keep them running until Ctrl-C.",
        ),
    ] = False,
    folder: Annotated[
        Path, typer.Option(help="Where the embedded servers keep their data.")
    ] = Path(".h2i/services"),
    ledger_port: Annotated[
        int, typer.Option("--ledger-port", min=0, max=65535, help="0: a free port.")
    ] = 0,
    redis_port: Annotated[
        int, typer.Option("--redis-port", min=0, max=65535, help="0: a free port.")
    ] = 0,
) -> None:
    """Whether the ledger, broker and Hesk servers answer; or (--embedded) run a ledger and
    a broker of their own, printing the H2I_LEDGER_URL / H2I_REDIS_URL to export."""
    from commands.services import check_services, run_embedded

    if embedded:
        run_embedded(folder, ledger_port, redis_port, console)
    elif not check_services(settings(), console):
        raise typer.Exit(EXIT_USAGE)


# --- migration commands ---


@app.command()
def demo(
    tickets: Annotated[int, typer.Option(min=1, help="Size of the demo help desk.")] = 300,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 2,
    out: Annotated[Path, typer.Option(help="Folder for the demo's files.")] = Path("demo-output"),
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Take over the demo database or --out folder even if "
            "they hold things the demo did not create (e.g. from an older version).",
        ),
    ] = False,
) -> None:
    """Run a whole demo migration on this machine's services with embedded defaults.

    It uses only its own database (h2i_demo_hesk), ledger database (h2i_demo_ledger) and
    folder (--out), whatever the H2I_ settings say; only the servers are reused.
    """
    from commands.demo import DemoOptions, run_demo
    from commands.report import render_report_summary

    result = run_demo(DemoOptions(tickets=tickets, workers=workers, out=out, force=force), console)
    render_report_summary(result["report"], console)
    console.print(f"customer notifications sent: {result['notifications_sent']}")
    console.print(
        f"HTML report: [bold]{escape(str(result['html']))}[/]  "
        f"(migration {escape(result['migration'])})"
    )


@map_app.command("propose")
def map_propose(
    out: Annotated[Path, typer.Option("--out", help="Where to write the proposal (YAML).")],
    target: Annotated[
        str, typer.Option("--target", help="Where tickets go: conversations or tickets.")
    ] = "conversations",
) -> None:
    """Propose the field map from the Hesk database and the Intercom workspace."""
    from commands.map import write_proposal
    from core.paths import writable_file

    writable_file(out, "--out")
    proposal = write_proposal(settings(), out, target)
    low = [
        f"{section}: {e.get('hesk_name')}"
        for section in ("custom_fields", "categories", "staff", "statuses")
        for e in proposal.get(section) or ()
        if float(e.get("confidence", 1)) < 0.8
    ]
    console.print(f"Wrote the proposed map to [bold]{escape(str(out))}[/].")
    if low:
        console.print(f"{len(low)} entries have low confidence; review them first:")
        for line in low[:20]:
            console.print(f"  - {line}", markup=False, highlight=False)
    console.print(f"Then run: hesk2intercom map confirm --file {out}", markup=False)


@map_app.command("show")
def map_show() -> None:
    """Show the confirmed field map."""
    from commands.map import confirmed_map_yaml

    text = confirmed_map_yaml(settings())
    if text is None:
        err_console.print(
            "No map is confirmed yet: run `hesk2intercom map propose --out map.yaml`."
        )
        raise typer.Exit(EXIT_USAGE)
    console.print(text, highlight=False, markup=False)


@map_app.command("confirm")
def map_confirm(
    file: Annotated[Path, typer.Option("--file", help="The edited map (YAML).")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
) -> None:
    """Validate the map against the workspace and record it as confirmed."""
    from commands.map import confirm

    if not yes and not typer.confirm(f"Confirm the map in {file} for this migration?"):
        raise typer.Exit(EXIT_USAGE)
    event, is_new = confirm(settings(), file)
    state = "recorded" if is_new else "was already recorded"
    console.print(f"Map {event.map_hash[:12]} {state}. Next: hesk2intercom preflight", markup=False)


@app.command()
def preflight() -> None:
    """Check the Intercom workspace and list blockers and manual steps (exit 3 if blocked)."""
    from commands.preflight import preflight as run_preflight

    result = run_preflight(settings())
    console.print(
        f"Workspace {result.base_url} ({result.region}), token of {result.admin}", markup=False
    )
    # Lines name Hesk categories, fields and staff: escaped, never read as markup.
    for line in result.apps if len(result.apps) > 1 else ():
        console.print(f"  [green]app[/] {escape(line)}", highlight=False)
    for line in result.matched:
        console.print(f"  [green]ok[/]  {escape(line)}", highlight=False)
    for line in result.to_create:
        console.print(f"  [cyan]will create[/] {escape(line)}", highlight=False)
    for line in result.manual_steps:
        console.print(f"  [yellow]by hand[/] {escape(line)}", highlight=False)
    for line in result.blockers:
        console.print(f"  [red]blocker[/] {escape(line)}", highlight=False)
    if result.blockers:
        console.print(f"{len(result.blockers)} blocker(s): fix them, then run preflight again.")
        raise typer.Exit(EXIT_BLOCKED)
    console.print("No blockers. Next: hesk2intercom migrate --sample 25")


@app.command()
def migrate(
    sample: Annotated[
        int | None, typer.Option(min=1, help="Move only N tickets (and what they need).")
    ] = None,
    only: Annotated[str | None, typer.Option(help="Move only this object type.")] = None,
    workers: Annotated[
        int,
        typer.Option(min=0, help="Worker processes to start here (0: use external workers)."),
    ] = 2,
    threads: Annotated[int, typer.Option(min=1, help="Threads per worker process.")] = 8,
) -> None:
    """Capture the source into the ledger and write it to Intercom (resumable)."""
    from commands.migrate import run_migration
    from commands.options import MigrateOptions

    s = settings()
    opts = MigrateOptions(
        sample=sample, only=only, workers=workers, threads=threads, stall_seconds=s.stall_seconds
    )
    summary = run_migration(s, opts, console)
    console.print(
        f"Migration run {summary['run']} finished in {summary['seconds']} s. "
        "Next: hesk2intercom verify, then hesk2intercom report"
    )


@app.command()
def report(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="Write an HTML report here.")] = None,
) -> None:
    """The reconciliation report: per object, migrated + quarantined + skipped + pending."""
    import json

    from commands.report import (
        current_details,
        current_report,
        render_exports,
        render_quarantined,
        render_report_summary,
        write_html,
    )
    from core.paths import writable_file

    if html is not None:
        writable_file(html, "--html")
    s = settings()
    the_report = current_report(s)
    if html is not None:
        path = write_html(the_report, html, current_details(s))
        err_console.print(f"HTML report written to {path}", markup=False)
    if as_json:
        sys.stdout.write(json.dumps(the_report, indent=2) + "\n")
    elif html is None:
        render_report_summary(the_report, console)
        render_quarantined(the_report, console)
        render_exports(the_report, console)


@app.command()
def verify(
    sample: Annotated[
        int, typer.Option(min=1, help="How many tickets and articles to read back.")
    ] = 25,
) -> None:
    """Read a random sample back from Intercom and compare it with the source (exit 5 when
    a difference is found, 0 when the sample matches)."""
    from commands.verify import render_verify, run_verify

    result = run_verify(settings(), sample)
    render_verify(result, console)
    if result.differences:
        raise typer.Exit(EXIT_DIFFERENCE)


@app.command()
def worker(
    processes: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    threads: Annotated[int, typer.Option(min=1, help="Threads per process.")] = 8,
) -> None:
    """Run Dramatiq workers against the shared Postgres and Redis (until Ctrl-C)."""
    from commands.worker_pool import exec_workers

    exec_workers(settings(), processes, threads)


# --- end migration commands ---

# --- delta, cutover, rollback, inventory ---


@app.command()
def delta(
    apply_deletions: Annotated[
        bool, typer.Option("--apply-deletions", help="Also delete what Hesk deleted.")
    ] = False,
    workers: Annotated[
        int, typer.Option(min=0, help="Worker processes (0: write from this process).")
    ] = 0,
    customers: Annotated[
        bool,
        typer.Option(
            "--customers",
            help="Also re-read every customer to find edited ones (Hesk keeps no edit time "
            "for them; costs a scan of the customers). cutover always does.",
        ),
    ] = False,
) -> None:
    """Move only what changed in Hesk since the last capture."""
    from commands.delta import delta_command, render_delta

    result = delta_command(settings(), apply=apply_deletions, workers=workers, customers=customers)
    render_delta(result, console)


@app.command()
def cutover(
    workers: Annotated[
        int, typer.Option(min=0, help="Worker processes (0: write from this process).")
    ] = 0,
) -> None:
    """Freeze, run the final delta, check Hesk has no new writes, print the reconciliation."""
    from commands.cutover import cutover_command
    from commands.delta import render_delta
    from commands.report import render_report_summary

    result = cutover_command(settings(), workers=workers)
    console.print(f"Hesk frozen at {result.frozen_at}; no write since.")
    render_delta(result.delta, console)
    render_report_summary(result.report, console)
    console.print("Cutover complete: Intercom now holds Hesk's final state.")


@app.command()
def rollback(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan only.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before deleting.")] = False,
    threads: Annotated[int, typer.Option(min=1, help="Parallel deletions.")] = 4,
) -> None:
    """Delete every Intercom object this migration created, in reverse dependency order."""
    from commands.rollback import render_rollback, rollback_command, rollback_plan_for

    s = settings()
    plan = rollback_plan_for(s)
    render_rollback(plan, console, planned=True)
    if dry_run or plan.already_rolled_back:
        return
    if not yes and not typer.confirm("Delete these objects from Intercom?"):
        raise typer.Exit(EXIT_USAGE)
    render_rollback(rollback_command(s, threads=threads), console, planned=False)


@app.command()
def inventory(
    out: Annotated[Path, typer.Option("--out", help="Folder for the hand-over files.")] = Path(
        "inventory"
    ),
) -> None:
    """Write the hand-over inventory of what must be rebuilt by hand in Intercom."""
    from commands.inventory import run_inventory
    from core.paths import writable_dir

    writable_dir(out, "--out")
    for path in run_inventory(settings(), out):
        console.print(f"wrote {path}", markup=False)


# --- end delta, cutover, rollback, inventory ---

# --- ID map and redirects ---

_APP_ID_HELP = (
    "The workspace's app id, instead of asking Intercom (GET /me) or using the one recorded."
)


@app.command()
def idmap(
    out: Annotated[Path, typer.Option("--out", help="The file to write.")],
    obj: Annotated[
        str | None, typer.Option("--object", help="Only this object (ticket, contact, ...).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    app_id: Annotated[str | None, typer.Option("--app-id", help=_APP_ID_HELP)] = None,
) -> None:
    """Write the ID map: every Hesk record, the Intercom object it became and its link, or
    why it did not move."""
    from commands.idmap import write_idmap

    result = write_idmap(settings(), out, obj=obj, fmt=fmt, app_id=app_id)
    shown = ", ".join(f"{n} {state}" for state, n in sorted(result.counts.items()))
    console.print(
        f"ID map written to [bold]{result.path}[/]: {result.rows} rows ({shown})", highlight=False
    )
    if not result.links.app_id:
        console.print("inbox links are missing: the workspace's app id is unknown")


@app.command()
def redirects(
    hesk_url: Annotated[
        str, typer.Option("--hesk-url", help="Hesk's public URL, e.g. https://help.example.com")
    ],
    out: Annotated[Path, typer.Option("--out", help="The file to write.")],
    fmt: Annotated[str, typer.Option("--format", help="nginx, apache or csv.")] = "nginx",
    admin_dir: Annotated[
        str, typer.Option("--hesk-admin-dir", help="Hesk's admin folder (renamed in some sites).")
    ] = "admin",
    app_id: Annotated[str | None, typer.Option("--app-id", help=_APP_ID_HELP)] = None,
) -> None:
    """Write rewrite rules from Hesk's links (KB articles and categories, staff and customer
    ticket links) to the articles, collections and inbox pages they became."""
    from commands.redirects import write_redirects

    result = write_redirects(settings(), hesk_url, out, fmt=fmt, admin_dir=admin_dir, app_id=app_id)
    console.print(
        f"Redirects written to [bold]{result.path}[/]: {result.rules} rules, "
        f"{result.comments} links listed as comments (not redirected). "
        "See docs/idmap-and-redirects.md to install them.",
        highlight=False,
    )


# --- end ID map and redirects ---


if __name__ == "__main__":
    app()
