"""The ``losslab`` command line: ``list``, ``show NAME``, ``verify [NAME ...]``.

Every table is built from the registry and from ``loss.info``; every number is computed in the run.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import __version__
from ._core import aliases as _aliases
from ._core import UnknownLoss, get, names
from ._extras import MissingExtra, require

app = typer.Typer(rich_markup_mode=None, add_completion=False, no_args_is_help=True,
                  help="losslab: loss functions with exact gradients, verified against PyTorch.")
# off a terminal (a pipe, a file) lines are never hard-wrapped: every sentence, number and path
# stays on one line
console = Console(soft_wrap=not sys.stdout.isatty())
err_console = Console(stderr=True, soft_wrap=not sys.stderr.isatty())


def _version(value: bool) -> None:
    if value:
        typer.echo(f"losslab {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="print the version and exit")) -> None:
    """losslab: loss functions with exact gradients, verified against PyTorch."""


def _fail(message: str, code: int = 2) -> None:
    """One line on stderr, "Error: ..." as click writes its own, and exit ``code``."""
    from rich.markup import escape

    err_console.print(f"[bold red]Error:[/] {escape(message)}", soft_wrap=True, markup=True,
                      highlight=False)
    raise typer.Exit(code)


def _extras_named(command):
    """A missing optional extra ends ``command`` with one line naming it and exit 2."""
    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except MissingExtra as exc:
            _fail(str(exc))
    return run


def _loss_or_exit(name: str):
    try:
        return get(name)
    except UnknownLoss as exc:  # on the command line, the list is a command
        _fail(str(UnknownLoss(exc.name, exc.suggestions, exc.count, "'losslab list' shows")))
    except (ValueError, TypeError) as exc:
        _fail(str(exc))


def _first_clause(text: str) -> str:
    """Text up to its first ';' outside parentheses (a convention's headline)."""
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if ch == ";" and depth == 0:
            return text[:i].strip()
    return text.strip()


def _is_terminal() -> bool:
    return sys.stdout.isatty()


def _emit(rows: list, columns: list, fmt: str, title: str, numeric=(), droppable=()) -> None:
    """Print records as a table (a terminal), plain tab-separated records (a pipe), CSV or JSON.

    In a terminal (see ``_table``) names and numbers are never cut and every header is whole
    words; when the terminal is too narrow for that, the ``droppable`` columns are left out with
    a note, and if it is still too narrow each row is printed as a block of ``header: value``
    lines. Piped records are one line per row, never wrapped."""
    fmt = ("table" if _is_terminal() else "records") if fmt == "auto" else fmt
    if fmt == "json":
        typer.echo(json.dumps([dict(zip(columns, r)) for r in rows], indent=2))
    elif fmt == "csv":
        import csv
        import io

        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        w.writerows(rows)
        typer.echo(buf.getvalue(), nl=False)
    elif fmt == "records":
        typer.echo("\t".join(columns))
        for r in rows:
            typer.echo("\t".join(str(v) for v in r))
    else:
        _table([[str(v) for v in r] for r in rows], list(columns), title, numeric, droppable)


def _words(text: str) -> list:
    return text.replace(",", ", ").split()


def _table(rows, columns, title, numeric=(), droppable=(), width=None):
    """A rich table that fits ``width`` (the terminal's) without cutting anything a reader needs
    whole: a column whose cells are single tokens (names, numbers) keeps its longest cell, a
    text column wraps at spaces, a header wraps between its words (snake_case headers are
    shown as words). Too narrow: leave out ``droppable`` columns (named in a note), then stack."""
    from rich import box

    width = width or console.width
    headers = [c.replace("_", " ") for c in columns]
    keep = list(range(len(columns)))
    dropped = []

    import textwrap

    gap = 2  # the columns' separation with collapsed padding: one pad and one rule

    def layout(i):
        """(header with line breaks, the column's minimum width, whether its cells wrap)."""
        cells = [r[i] for r in rows]
        token = all(len(c.split()) <= 1 for c in cells) or columns[i] in numeric or i == 0
        head_min = max((len(w) for w in headers[i].split()), default=1)
        if token:
            need = max([head_min] + [len(c) for c in cells])
        else:
            need = max([head_min] + [min(len(w), 24) for c in cells for w in _words(c)])
        head = "\n".join(textwrap.wrap(headers[i], max(need, head_min), break_long_words=False))
        return head, need, not token

    def build(idx):
        table = Table(title=Text(title) if title else None, box=box.SIMPLE_HEAD, padding=(0, 1),
                      collapse_padding=True, pad_edge=False, show_edge=False,
                      title_justify="left")
        for i in idx:
            head, need, wraps = layout(i)
            if wraps:
                table.add_column(head, overflow="fold", min_width=need)
            else:
                table.add_column(head, no_wrap=True, width=need,
                                 justify="right" if columns[i] in numeric else "left")
        for r in rows:
            table.add_row(*(Text(r[i]) for i in idx))
        return table

    def fits(idx):
        return sum(layout(i)[1] for i in idx) + gap * (len(idx) - 1) <= width

    for col in droppable:
        if fits(keep) or col not in columns:
            break
        keep.remove(columns.index(col))
        dropped.append(col)
    if fits(keep):
        console.print(build(keep), width=width)
        if dropped:
            console.print(f"(left out at this width: {', '.join(dropped)}; a wider terminal or "
                          "--format records shows every column)", style="dim")
        return
    # stacked: one block per row, "header: value" lines folded at the terminal's width
    from rich.markup import escape

    if title:
        console.print(f"[bold]{escape(title)}[/bold]", width=width)
    pad = max(len(h) for h in headers[1:]) if len(headers) > 1 else 0
    for r in rows:
        console.print(f"[bold]{escape(r[0])}[/bold]", width=width, highlight=False)
        for h, v in zip(headers[1:], r[1:]):
            console.print(f"  {h.ljust(pad)}  {v}", width=width, highlight=False, markup=False)


_FORMAT_HELP = "table (a terminal), records (a pipe: tab-separated), csv or json; auto picks"


def catalogue_markdown() -> str:
    """The catalogue as a Markdown table (the README's table is this, checked by the tests)."""
    lines = ["| loss | task | hyperparameters (defaults) | y_true | y_pred | hessian | reference |",
             "|---|---|---|---|---|---|---|"]
    for n in names():
        loss = get(n)
        info = loss.info
        params = ", ".join(f"{k}={v}" for k, v in info.hyperparameters.items()) or "-"
        alias = f" ({', '.join(info.aliases)})" if info.aliases else ""
        lines.append(f"| `{n}`{alias} | {info.task} | {params} | {info.y_true_domain} | "
                     f"{info.y_pred_domain} | {info.hessian} | {_first_clause(info.convention)} |")
    return "\n".join(lines)


@app.command("list")
def list_losses(markdown: bool = typer.Option(False, "--markdown", help="print a Markdown table"),
                fmt: str = typer.Option("auto", "--format", help=_FORMAT_HELP)) -> None:
    """Print the catalogue: every registered loss with its task, domains and metadata."""
    if markdown:
        print(catalogue_markdown())
        return
    _check_format(fmt)
    rows = []
    for n in names():
        info = get(n).info
        params = ", ".join(f"{k}={v}" for k, v in info.hyperparameters.items()) or "-"
        rows.append([n, info.task, params, info.y_true_domain, info.y_pred_domain,
                     info.convex.split(" ")[0], info.hessian, info.noise_model or "-"])
    _emit(rows, ["name", "task", "hyperparameters", "y_true", "y_pred", "convex", "hessian",
                 "noise model"], fmt, f"losslab {__version__}: {len(names())} losses",
          droppable=("noise model", "y_pred", "y_true"))
    al = _aliases()
    if al and (fmt == "table" or (fmt == "auto" and _is_terminal())):
        console.print("aliases: " + ", ".join(f"{a} -> {c}" for a, c in al.items()))


def _check_out_file(path: Path, option: str) -> None:
    """A file the command will write: refused up front (exit 2) when it cannot be (a folder,
    or a folder that does not exist)."""
    if path.is_dir():
        _fail(f"{option} {str(path)!r} is a folder: give a file name")
    if not path.parent.is_dir():
        _fail(f"{option} {str(path)!r}: the folder {str(path.parent)!r} does not exist")
    if not os.access(path.parent, os.W_OK):
        _fail(f"{option} {str(path)!r}: the folder {str(path.parent)!r} is not writable")


def _check_out_dir(path: Path, option: str) -> None:
    """A folder the command will create or write into: refused up front when it is a file or
    its nearest existing parent cannot be written."""
    if path.exists() and not path.is_dir():
        _fail(f"{option} {str(path)!r} is a file, not a folder")
    base = path
    while not base.exists() and base != base.parent:
        base = base.parent
    if base.exists() and (not base.is_dir() or not os.access(base, os.W_OK)):
        _fail(f"{option} {str(path)!r} cannot be created: {str(base)!r} is "
              + ("not a folder" if not base.is_dir() else "not writable"))


def _write_text(path: Path, text: str, option: str) -> None:
    try:
        path.write_text(text)
    except OSError as exc:
        _fail(f"cannot write {option} {str(path)!r}: {exc.strerror or exc}")


def _check_format(fmt):
    if fmt not in ("auto", "table", "records", "csv", "json"):
        _fail(f"--format must be table, records, csv or json (or auto), got {fmt!r}")


@app.command()
def show(name: str = typer.Argument(..., help="loss name or alias"),
         plot: Optional[Path] = typer.Option(None, "--plot", help="also draw value and gradient "
                                             "into this image file (PNG, SVG, PDF)")) -> None:
    """Print one loss's card (formula, gradient, domains, activation, convexity, robustness,
    noise model, conventions, references); --plot draws its value and gradient."""
    from .report.cards import card_rows

    loss = _loss_or_exit(name)
    if not _is_terminal():  # a pipe: records, as every command prints them
        typer.echo("field\tvalue")
        typer.echo(f"name\t{loss.info.name}")
        typer.echo(f"summary\t{loss.info.summary}")
        for k, v in card_rows(loss):
            typer.echo(f"{k}\t{' '.join(str(v).split())}")
    else:
        table = Table(title=f"{loss.info.name}: {loss.info.summary}", show_header=False,
                      show_lines=True)
        table.add_column("field", style="bold")
        table.add_column("value", overflow="fold")
        for k, v in card_rows(loss):
            table.add_row(k, Text(str(v)))
        console.print(table)
    if plot is not None:
        from .report.cards import card_figure

        try:
            card_figure(loss.name).savefig(plot, dpi=110)
        except (OSError, ValueError) as exc:
            _fail(f"cannot write {plot}: {exc}")
        console.print(f"wrote {plot}")


@app.command()
@_extras_named
def verify(
    losses: Optional[list[str]] = typer.Argument(None, help="loss names (default: all)"),
    cases: int = typer.Option(100, min=1, max=1_000_000, help="random cases per loss (at "
                              "most 1,000,000)"),
    seed: int = typer.Option(0, help="seed of the random cases"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="also write the results as JSON"),
    fmt: str = typer.Option("auto", "--format", help=_FORMAT_HELP),
) -> None:
    """Check every loss against PyTorch (value and autograd gradient, every reduction, with and
    without weights) and against central differences (gradient and hessian). Exits 1 on a failure."""
    _check_format(fmt)
    if json_out is not None:
        _check_out_file(json_out, "--json")
    from .verification import FD_RTOL, TORCH_RTOL
    from .verification import verify as run_verify

    selected = None
    if losses:
        selected = [_loss_or_exit(n).name for n in losses]
    with console.status("verifying") as status:
        report = run_verify(selected, n_cases=cases, seed=seed,
                            progress=lambda n: status.update(f"verifying {n}"))
    torch_note = (f"PyTorch {report.torch_version}" if report.torch_version
                  else "PyTorch not installed: finite differences only (pip install 'losslab[torch]')")
    def fmt_err(x):
        return "-" if x is None else f"{x:.1e}"

    columns = ["loss", "oracle", "checks", "value vs torch", "grad vs torch", "grad vs FD",
               "hessian vs FD", "hessian", "result"]
    rows = [[r.name, r.oracle, r.comparisons, fmt_err(r.value_error), fmt_err(r.gradient_error),
             fmt_err(r.fd_gradient_error), fmt_err(r.fd_hessian_error), r.hessian,
             "ok" if r.ok else "FAIL"] for r in report.rows]
    _emit(rows, columns, fmt, f"losslab verify: {cases} cases per loss, float64, {torch_note}",
          numeric=("checks", "value vs torch", "grad vs torch", "grad vs FD", "hessian vs FD"),
          droppable=("checks", "oracle"))
    if fmt in ("csv", "json"):
        failed = [r for r in report.rows if not r.ok]
        if json_out is not None:
            _write_text(json_out, json.dumps(report.to_dict(), indent=2), "--json")
        raise typer.Exit(1 if failed else 0)
    console.print(f"tolerances (norm-wise relative): PyTorch {TORCH_RTOL:g}, finite differences "
                  f"{FD_RTOL:g}")
    if json_out is not None:
        _write_text(json_out, json.dumps(report.to_dict(), indent=2), "--json")
    failed = [r for r in report.rows if not r.ok]
    for r in failed:
        for f in r.failures[:5]:
            console.print(f"[red]{r.name}[/]: {f}")
    if failed:
        console.print(f"[bold red]{len(failed)} of {len(report.rows)} losses failed[/]")
        raise typer.Exit(1)
    console.print(f"[bold green]all {len(report.rows)} losses agree with their references[/]")


@app.command()
def lab(
    name: Optional[str] = typer.Argument(None, help="the lab to run (omit to list them)"),
    out: Path = typer.Option(Path("lab-results"), "--out", help="folder for the figure and JSON"),
    seed: int = typer.Option(0, min=0, help="seed of the lab's data and training"),
    fmt: str = typer.Option("auto", "--format", help=_FORMAT_HELP),
    all_rows: bool = typer.Option(False, "--all", help="print every row of long tables (the "
                                  "terminal shows the first 12 of each; csv and json show all)"),
) -> None:
    """Run one of the course's experiments: print its numbers, write NAME.png and NAME.json."""
    from . import labs

    _check_format(fmt)
    if name is None:
        table = Table(title="labs")
        table.add_column("name")
        table.add_column("what it measures")
        for lab_name in labs.names():
            table.add_row(lab_name, labs.describe(lab_name))
        console.print(table)
        return
    if name not in labs.names():
        import difflib

        close = difflib.get_close_matches(name, labs.names(), n=2, cutoff=0.6)
        hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
        _fail(f"unknown lab {name!r}{hint} The labs are: {', '.join(labs.names())}")
    _check_out_dir(out, "--out")
    result = labs.run(name, seed=seed)
    try:
        paths = result.save(out)
    except OSError as exc:
        _fail(f"cannot write into --out {str(out)!r}: {exc.strerror or exc}")
    if fmt == "json":
        from ._io import json_types

        typer.echo(json.dumps(json_types({"lab": name, "title": result.title, "seed": seed,
                                          "tables": result.tables, "claims": result.claims}),
                              indent=2))
        return
    summary = fmt in ("auto", "table", "records") and not all_rows
    if fmt != "csv":
        console.print(f"[bold]{result.title}[/bold]  (seed {seed}, {result.seconds:.1f} s)",
                      soft_wrap=not _is_terminal())
    for key, rows in result.tables.items():
        if not rows:
            continue
        columns = list(rows[0])
        shown = rows[:12] if summary else rows
        cells = [[_cell(row.get(col)) for col in columns] for row in shown]
        numeric = tuple(c for c in columns if all(isinstance(r.get(c), (int, float))
                                                  for r in rows))
        if fmt == "csv":
            typer.echo(f"# {key}")
        _emit(cells, columns, fmt, key, numeric=numeric)
        if len(shown) < len(rows):
            typer.echo(f"... {len(rows) - len(shown)} more rows of {key} (--all shows them; "
                       f"all are in {paths['json']})")
    if fmt == "csv":
        return
    for claim in result.claims:
        console.print(f"- {claim}", soft_wrap=not _is_terminal())
    console.print(f"wrote {paths['figure']} and {paths['json']}", soft_wrap=not _is_terminal())


@app.command("landscape")
@_extras_named
def landscape_cmd(
    case: Optional[str] = typer.Argument(None, help="a case: the course's surface, a "
                                         "demonstration surface, csv or skip (omit the case to "
                                         "list them all)"),
    loss: str = typer.Option("mse", help="loss for the course and csv cases"),
    csv: Optional[Path] = typer.Option(None, "--csv", help="a CSV file (case csv)"),
    target: Optional[str] = typer.Option(None, help="the CSV's target column (case csv)"),
    grid: Optional[int] = typer.Option(None, min=3, help="grid points per axis"),
    out: Path = typer.Option(Path("landscapes"), "--out", help="folder for PNG, HTML and JSON"),
    html: bool = typer.Option(True, "--html/--no-html", help="also write the interactive view"),
    seed: int = typer.Option(0, min=0, help="seed"),
    workers: Optional[int] = typer.Option(None, min=1, help="compute the grid on this many local "
                                          "processes (course, csv, skip)"),
    scheduler: Optional[str] = typer.Option(None, help="address of a running Dask scheduler "
                                            "(tcp://host:8786) to compute the grid on"),
    store: Optional[Path] = typer.Option(None, help="a Zarr store (PATH.zarr) that keeps finished "
                                         "chunks: a run started again resumes from it"),
) -> None:
    """Draw a cost landscape: the course's (w, b) surface, a demonstration surface with its
    critical points and optimiser paths, a linear model on your CSV, or skip connections."""
    import warnings

    from .landscapes import StoreError, StoreWarning
    from .labs import landscapes as _cases

    if case is None:
        console.print("landscape cases: " + ", ".join(_cases.CASES))
        return
    if workers is not None and scheduler is not None:
        _fail("give --workers or --scheduler, not both")
    try:
        _cases.check_case(case, grid_options=any(o is not None for o in (workers, scheduler,
                                                                           store)))
    except ValueError as exc:
        _fail(str(exc))
    _check_out_dir(out, "--out")
    client = None
    try:
        executor = workers
        if scheduler is not None:
            client = require("distributed", "--scheduler").Client(scheduler, timeout="10s")
            executor = client
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", StoreWarning)
            result = _cases.run_case(case, loss=loss, csv=csv, target=target, n=grid, seed=seed,
                                     executor=executor, store=store)
        for w in caught:
            if issubclass(w.category, StoreWarning):
                console.print(f"[yellow]store:[/] {w.message}", soft_wrap=True)
    except StoreError as exc:
        _fail(str(exc), code=1)
    except (ValueError, OSError, MemoryError) as exc:
        _fail(str(exc))
    finally:
        if client is not None:
            client.close()
    console.print(f"[bold]{result.title}[/bold]")
    for claim in result.claims:
        console.print(f"- {claim}")
    try:
        paths = _cases.save_case(result, out, html=html)
    except OSError as exc:
        _fail(f"cannot write into --out {str(out)!r}: {exc.strerror or exc}")
    console.print("wrote " + ", ".join(str(p) for p in paths.values()), soft_wrap=True)


@app.command()
@_extras_named
def advise(
    data: Optional[Path] = typer.Argument(None, help="a CSV file with a header row"),
    target: Optional[str] = typer.Option(None, help="the target column"),
    task: str = typer.Option("auto", help="auto (read from the target), regression, binary or "
                             "multiclass"),
    cost_under: Optional[float] = typer.Option(None, "--cost-under", help="cost of a unit of "
                                               "under-prediction (binary: of a missed positive)"),
    cost_over: Optional[float] = typer.Option(None, "--cost-over", help="cost of a unit of "
                                              "over-prediction (binary: of a false alarm)"),
    metric: Optional[str] = typer.Option(None, help="mae, rmse, r2, median_ae (regression); "
                                         "average_precision, roc_auc, log_loss, brier, "
                                         "balanced_accuracy, f1, accuracy (binary); "
                                         "average_precision, log_loss, balanced_accuracy, "
                                         "accuracy, f1_macro (multiclass)"),
    models: Optional[str] = typer.Option(None, help="model families, comma-separated: linear, "
                                         "mlp, boosting (default: linear, and boosting when "
                                         "LightGBM is installed)"),
    cv: int = typer.Option(5, min=2, help="cross-validation folds"),
    repeats: int = typer.Option(2, min=1, help="repeats of the cross-validation (the same splits "
                                "for every candidate)"),
    demo: Optional[str] = typer.Option(None, help="a built-in table instead of DATA: delivery, "
                                       "fraud or demand"),
    json_out: bool = typer.Option(False, "--json", help="print the result as JSON (the same as "
                                  "--format json)"),
    html_out: Optional[Path] = typer.Option(None, "--html", help="also write a self-contained "
                                            "HTML page (table and figures) to this file"),
    seed: int = typer.Option(0, min=0, help="seed of the folds and the training"),
    fmt: str = typer.Option("auto", "--format", help="table (a terminal), records (a pipe: the "
                            "findings as lines, the table tab-separated), csv (the table, plain "
                            "numbers) or json (everything); auto picks"),
) -> None:
    """Which loss for this data? Inspect the target, state the course's decision guide, and
    measure the candidate losses, in each model family, by repeated cross-validation with
    paired confidence intervals."""
    from .advisor import TableError, demo_table, read_csv
    from .advisor import advise as run_advise

    _check_format(fmt)
    if html_out is not None:
        _check_out_file(html_out, "--html")
    if json_out:
        fmt = "json"
    fmt = ("table" if _is_terminal() else "records") if fmt == "auto" else fmt
    try:
        if demo is not None:
            if data is not None:
                _fail("give DATA or --demo, not both")
            X, y, features, meta = demo_table(demo, seed=seed)
            if meta["costs"] and cost_under is None and cost_over is None:
                cost_under, cost_over = meta["costs"]
            source = f"demo table {demo!r}"
        else:
            if data is None or target is None:
                _fail("give a CSV file and --target COLUMN (or --demo NAME)")
            X, y, features = read_csv(data, target)
            source = str(data)
        result = run_advise(X, y, task=task, cost_under=cost_under, cost_over=cost_over,
                            metric=metric, cv=cv, repeats=repeats, models=models, seed=seed,
                            progress=fmt == "table")
    except (TableError, ValueError, TypeError) as exc:
        _fail(str(exc))
    if html_out is not None:
        try:
            result.write_html(html_out, title=f"losslab advise: {source}")
        except OSError as exc:
            _fail(f"cannot write --html {str(html_out)!r}: {exc.strerror or exc}")
    if fmt == "json":
        out = result.to_dict()
        out["source"], out["features"] = source, features
        typer.echo(json.dumps(out, indent=2))
        return
    if fmt == "csv":
        records = result.records()
        _emit([[_csv_cell(r[k]) for k in records[0]] for r in records], list(records[0]), "csv", "")
        return
    # table (a terminal) or records (a pipe: every line whole, the table tab-separated)
    say = console.print if fmt == "table" else (lambda text: typer.echo(_plain(text)))
    info = result.inspection
    say(f"[bold]{source}[/bold]: {info['rows']} rows, {info['features']} features "
        f"({', '.join(features)}); task {info['task']} (detected: "
        f"{info['detected_task']}, {info['detected_because']})")
    skip = ("task", "rows", "features", "detected_task", "detected_because")
    say("inspection: " + "; ".join(f"{k} = {_cell(info[k])}" for k in info
                                   if k not in skip and info[k] is not None))
    say("decision guide: " + ", ".join(result.guide["losses"]) + ". "
        + " ".join(result.guide["reasons"]))
    if fmt == "table":
        table = Table(title=f"tournament ({result.cv}-fold cross-validation x {result.repeats})")
        for c in result.columns(compact=True):
            table.add_column(c, overflow="fold")
        for row in result.cells(compact=True):
            table.add_row(*row)
        console.print(table)
    else:
        _emit(result.cells(), result.columns(), "records", "")
    say("what each loss estimates: " + "; ".join(
        f"{k}: {v}" for k, v in result.estimates().items()))
    for note in result.notes:
        say(f"- {note}")
    say(f"[bold]recommendation: {result.recommendation_text}[/bold]. {result.agreement}")
    if html_out is not None:
        say(f"wrote {html_out}")


def _plain(text: str) -> str:
    """Rich markup removed (the [bold] tags a terminal renders)."""
    return text.replace("[bold]", "").replace("[/bold]", "")


def _csv_cell(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, dict):
        return json.dumps(v)
    return v


exercise_app = typer.Typer(rich_markup_mode=None, no_args_is_help=True,
                           help="The course's exercises, checked with the mistake named.")
app.add_typer(exercise_app, name="exercise")


def _exercise_or_exit(name: str):
    from .exercises import get_exercise

    try:
        return get_exercise(name)
    except ValueError as exc:
        _fail(str(exc))


def _seed(seed: Optional[str]):
    """A learner's seed: an integer, or any other text (a learner id)."""
    if seed is None:
        return None
    try:
        return int(seed)
    except ValueError:
        return seed


@exercise_app.command("list")
def exercise_list(
    fmt: str = typer.Option("auto", "--format", help="auto, table, csv or json"),
) -> None:
    """List the exercises: name, what it asks, and the chapter it comes from."""
    from .exercises import EXERCISES

    if fmt not in ("auto", "table", "csv", "json"):
        _fail(f"--format must be auto, table, csv or json, got {fmt!r}")
    rows = [[e.name, e.title, e.source] for e in EXERCISES.values()]
    _emit(rows, ["exercise", "asks for", "from"], fmt, f"{len(rows)} exercises",
          droppable=("from",))


@exercise_app.command("show")
def exercise_show(
    name: str = typer.Argument(..., help="the exercise"),
    seed: Optional[str] = typer.Option(None, help="the learner's seed or id: their own "
                                       "hyperparameters and hidden cases"),
) -> None:
    """Print an exercise's statement, with the learner's hyperparameters and signature."""
    ex = _exercise_or_exit(name)
    typer.echo(ex.text(_seed(seed)))


def _print_check(res: dict) -> None:
    head = (f"{res['exercise']}: {'passed' if res['passed'] else 'not passed'}, score "
            f"{res['score']:.2f}")
    console.print(head, style="bold green" if res["passed"] else "bold red", highlight=False)
    if res["groups"]:
        console.print("cases: " + ", ".join(f"{g} {a}/{b}" for g, (a, b)
                                            in res["groups"].items()), highlight=False)
    for f in res["findings"]:
        console.print(f"- {f}", highlight=False, markup=False)


@exercise_app.command("check")
def exercise_check(
    name: str = typer.Argument(..., help="the exercise"),
    file: Path = typer.Argument(..., help="the learner's Python file"),
    function: Optional[str] = typer.Option(None, help="the function to check (default: the "
                                           "exercise's name)"),
    seed: Optional[str] = typer.Option(None, help="the learner's seed or id"),
    fmt: str = typer.Option("text", "--format", help="text or json"),
) -> None:
    """Check a learner's function on the exercise's hidden cases, in a child process with a
    time limit. Exit 0: passed; 1: not passed (the findings say why); 2: bad usage."""
    from .exercises import check_file

    _exercise_or_exit(name)
    if fmt not in ("text", "json"):
        _fail(f"--format must be text or json, got {fmt!r}")
    if not file.is_file():
        _fail(f"no file {str(file)!r}")
    res = check_file(name, file, function=function, seed=_seed(seed))
    if fmt == "json":
        typer.echo(json.dumps(res, indent=2))
    else:
        _print_check(res)
    raise typer.Exit(0 if res["passed"] else 1)


@exercise_app.command("grade")
def exercise_grade(
    folder: Path = typer.Argument(..., help="a folder of submissions: one .py file per learner, "
                                  "the file's name the learner's id"),
    exercise: str = typer.Option(..., "--exercise", help="the exercise"),
    out: Path = typer.Option(Path("grades.csv"), "--out", help="the CSV to write"),
    function: Optional[str] = typer.Option(None, help="the function to check (default: the "
                                           "exercise's name)"),
) -> None:
    """Check every submission in a folder (each learner with their own hidden cases, seeded by
    the file's name) and write a CSV: learner, score, passed, findings."""
    from .exercises import grade_folder

    _exercise_or_exit(exercise)
    if not folder.is_dir():
        _fail(f"no folder {str(folder)!r}")
    _check_out_file(out, "--out")
    try:
        rows = grade_folder(folder, exercise, out, function=function)
    except ValueError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write --out {str(out)!r}: {exc.strerror or exc}")
    passed = sum(r["passed"] == "yes" for r in rows)
    console.print(f"{len(rows)} submissions, {passed} passed; wrote {out}", highlight=False)


@app.command()
@_extras_named
def explore(
    port: int = typer.Option(8050, min=1, max=65535, help="port to serve on"),
    host: str = typer.Option("127.0.0.1", help="address to serve on"),
    no_browser: bool = typer.Option(False, "--no-browser", help="do not open a browser"),
) -> None:
    """Play with losses in the browser: a loss explorer, regression and classification
    playgrounds, and optimiser paths on cost landscapes, computed live by losslab."""
    require("dash", "losslab explore")  # before anything is printed or served
    from .explore import serve

    console.print(f"losslab explore on http://{host}:{port}/ (Ctrl-C to stop)")
    try:
        serve(port=port, host=host, open_browser=not no_browser)
    except KeyboardInterrupt:
        raise typer.Exit(130)


@app.command()
@_extras_named
def report(
    out: Path = typer.Option(Path("losslab-report"), "--out", help="folder for report.html, "
                             "report.json and figures/"),
    quick: bool = typer.Option(False, "--quick", help="smaller runs: under 30 s on two cores"),
    seed: int = typer.Option(0, min=0, help="seed of every experiment"),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="local processes that "
                                          "run the parts (default: the cores, at most 4; 1: "
                                          "in this process); the numbers do not depend on it"),
) -> None:
    """Run the whole lab (verification, loss cards, every lab, landscapes, the advisor) and write
    one self-contained HTML report, a JSON of every number, and the PNG figures."""
    from .report import build_report

    had = (out / "report.html").exists()
    log = None if sys.stderr.isatty() else (lambda line: print(line, flush=True))
    try:
        res = build_report(out, quick=quick, seed=seed, progress=True, log=log, workers=workers)
    except KeyboardInterrupt:
        import os
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C changes nothing now
        kept = (f"the previous report in {out} is unchanged" if had
                else f"no report was written to {out}")
        console.print(f"interrupted: {kept}", soft_wrap=True)
        sys.stdout.flush()
        sys.stderr.flush()
        # the build folder is already removed: leave at once, without interpreter teardown
        # (where a late KeyboardInterrupt in a library's thread turned 130 into a signal exit)
        os._exit(130)
    except OSError as exc:
        _fail(f"cannot write the report into {str(out)!r}: {exc}")
    console.print(f"wrote {res['html']} ({res['html'].stat().st_size / 2 ** 20:.1f} MiB), "
                  f"{res['json']} and {res['n_figures']} figures in {res['figures']} "
                  f"({res['seconds']:.0f} s)")


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_cell(v)}" for k, v in value.items())
    return "" if value is None else str(value)


def main() -> None:  # console-script entry point
    try:
        app()
    except SystemExit as exc:
        if "PacifyFlushWrapper" in type(sys.stdout).__name__:
            # click met a closed pipe (``losslab list | head -1``): the reader has what it
            # wanted, so leave quietly with 0, sending what is still buffered nowhere
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.__stdout__.fileno())
            raise SystemExit(0) from None
        raise


if __name__ == "__main__":  # pragma: no cover
    main()
