"""The ``researchkit`` command line.

::

    researchkit run STUDY.yaml [--jobs N] [--only NAME ...] [--out DIR] [--timeout S] [--show-code]
    researchkit run-notebook NOTEBOOK [-p NAME VALUE ...] [--out DIR]
    researchkit validate STUDY.yaml
    researchkit list
    researchkit new KIND DEST

Exit status: 0 success, 1 a notebook failed, 2 invalid input (study, parameters, arguments),
130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from researchkit.errors import ParameterError, ResearchkitError

__all__ = ["main"]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def _parse_value(text: str) -> Any:
    """``-p`` values are YAML scalars/flow collections: 200, 0.5, true, abc, [a, b]."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="researchkit",
        description="researchkit: run marketing-research studies as reproducible notebooks.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("run", help="validate a study and run its notebooks")
    p.add_argument("study", type=Path, help="study file (YAML)")
    p.add_argument("--jobs", "-j", type=_positive_int, default=1,
                   help="notebooks to run in parallel (default 1)")
    p.add_argument("--only", action="append", metavar="NAME",
                   help="run only this notebook entry (repeat or comma-separate)")
    p.add_argument("--out", type=Path, help="base folder for runs (default ./runs)")
    p.add_argument("--timeout", type=_positive_float, help="per-cell time limit in seconds")
    p.add_argument("--show-code", action="store_true", help="show code in HTML reports")

    p = sub.add_parser("run-notebook", help="run one notebook with parameters")
    p.add_argument("notebook", help="a shipped notebook's name or a path to an .ipynb")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                   metavar=("NAME", "VALUE"), help="set a parameter (value read as YAML)")
    p.add_argument("--out", type=Path, help="base folder for runs (default ./runs)")
    p.add_argument("--timeout", type=_positive_float, help="per-cell time limit in seconds")
    p.add_argument("--show-code", action="store_true", help="show code in HTML reports")

    p = sub.add_parser("validate", help="check a study file and its notebooks' parameters")
    p.add_argument("study", type=Path)

    sub.add_parser("list", help="list notebooks with their descriptions and parameters")

    p = sub.add_parser("new", help="start a study from a template")
    p.add_argument("kind", help="template name (see `researchkit new --list`)", nargs="?")
    p.add_argument("dest", type=Path, nargs="?", help="file or folder to create")
    p.add_argument("--list", action="store_true", help="list the available templates")
    return parser


def _cmd_run(args: argparse.Namespace) -> int:
    from researchkit.runner.run import run_study

    only = None
    if args.only:
        only = [name.strip() for item in args.only for name in item.split(",") if name.strip()]
    summary = run_study(args.study, jobs=args.jobs, only=only, out=args.out,
                        timeout=args.timeout, show_code=args.show_code)
    return summary.exit_code()


def _cmd_run_notebook(args: argparse.Namespace) -> int:
    from researchkit.runner.run import run_notebook

    params: dict[str, Any] = {}
    for name, value in args.parameter:
        if name in params:
            raise ParameterError("parameter given twice", parameter=name)
        params[name] = _parse_value(value)
    summary = run_notebook(args.notebook, params, out=args.out, timeout=args.timeout,
                           show_code=args.show_code)
    return summary.exit_code()


def _cmd_validate(args: argparse.Namespace) -> int:
    from researchkit.runner.plan import check_plan
    from researchkit.runner.run import prepare_study
    from researchkit.runner.study import load_study

    study = load_study(args.study)
    prepared = prepare_study(study)
    print(f"{args.study}: valid study {study.title!r} with {len(prepared)} notebook(s):")
    for p in prepared:
        shown = ", ".join(f"{k}={v!r}" for k, v in p.parameters.items()) or "defaults"
        print(f"  - {p.name} ({p.info.name}): {shown}")
    findings = check_plan(study)
    if findings:
        print("Plan review (see the research_plan notebook for details):")
        for f in findings:
            print(f"  {f.severity:<7} {f.field}: {f.message}")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from researchkit.runner.notebooks import list_notebooks
    from researchkit.runner.paths import notebooks_dir

    infos = list_notebooks()
    print(f"Notebooks in {notebooks_dir()}:")
    for info in infos:
        print(f"\n{info.name}\n  {info.description}")
        for spec in info.parameters.values():
            desc = f"  # {spec.description}" if spec.description else ""
            print(f"    {spec.name}: {spec.type_text} = {spec.default!r}{desc}")
    return 0


def _cmd_new(args: argparse.Namespace) -> int:
    from researchkit.runner.templates import copy_template, list_templates

    if args.list or not args.kind:
        print("Study templates:")
        for name, title in list_templates().items():
            print(f"  {name:<28} {title}")
        if not args.list:
            print("\nusage: researchkit new KIND DEST")
        return 0
    if args.dest is None:
        raise ParameterError("missing destination", parameter="DEST",
                             expected="a file name (e.g. my-study.yaml) or a folder")
    path = copy_template(args.kind, args.dest)
    print(f"Created {path}. Edit it, then: researchkit validate {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``researchkit`` command."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from researchkit import __version__

        print(f"researchkit {__version__}")
        return 0
    handlers = {
        "run": _cmd_run,
        "run-notebook": _cmd_run_notebook,
        "validate": _cmd_validate,
        "list": _cmd_list,
        "new": _cmd_new,
    }
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return handlers[args.command](args)
    except ResearchkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
