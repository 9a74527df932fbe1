"""`chargebench paths [NAME]`: where the files that ship in the package are.

A pip user has no checkout: the scenario library, the example CSMS seed, the locustfile and
its mix live inside the installed package. `chargebench paths` lists them (NAME and path, one
per line, then the library's scenario names); `chargebench paths NAME` prints just that path,
for the shell: `locust -f "$(chargebench paths locustfile)" ...`. Exit 2 for an unknown NAME.
"""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

from chargebench.cli import UsageError

__all__ = ["SHIPPED", "add_parser", "library_scenarios", "resolve_library", "shipped"]

#: name -> (package, resource inside it, what it is): every file a README command refers to.
SHIPPED: dict[str, tuple[str, str, str]] = {
    "library": ("scenarios", "library", "scenario library (chargebench run --library NAME)"),
    "scenario-language": ("scenarios", "README.md", "how scenario files are written"),
    "seed-example": ("csms", "seed_example.yaml",
                     "example CSMS seed (chargebench csms --seed-file example)"),
    "lab-seed": ("scenarios", "lab_seed.yaml", "the built-in CSMS's data for library scenarios"),
    "locustfile": ("loadtest", "locustfile.py", "Locust charge points (chargebench load uses it)"),
    "mix": ("loadtest", "mix.yaml", "default Locust user mix (locust ... --mix FILE)"),
    "charger-template": ("scenarios", "templates/ac-2x22kw.json",
                         "default charge point configuration of scenarios"),
    "charger-config": ("sim", "default_config.json|libocpp/config.json",
                       "default charge point configuration (libocpp 1.6) of chargebench sim"),
    "conformance-catalog": ("conformance", "catalog.yaml", "the conformance cases"),
    "benchmarks": ("loadtest", "README.md", "load tests and benchmarks, with figures"),
}


def shipped(name: str) -> Path:
    """The installed path of shipped file `name` (a key of `SHIPPED`). A resource `A|B` is the
    first of A, B that exists (sim's default configuration moves from B to A, issue 14 point 9).
    """
    package, resource, _what = SHIPPED[name]
    candidates = [Path(str(resources.files(package).joinpath(r))) for r in resource.split("|")]
    return next((path for path in candidates if path.exists()), candidates[-1])


def library_scenarios() -> dict[str, Path]:
    """The library's runnable scenarios by name (file stem); `flows/` holds included parts."""
    return {path.stem: path for path in sorted(shipped("library").glob("*.yaml"))}


def resolve_library(names: list[str]) -> list[Path]:
    """Library scenario files for `names` (`foo` or `foo.yaml`); none or `all`: every one.
    `UsageError` for a name the library does not have."""
    library = library_scenarios()
    if not names or names == ["all"]:
        return list(library.values())
    files, unknown = [], []
    for name in names:
        stem = name.removesuffix(".yaml")
        if stem in library:
            files.append(library[stem])
        else:
            unknown.append(name)
    if unknown:
        raise UsageError(f"--library: no scenario {', '.join(unknown)} in the library; "
                         "`chargebench paths` lists them")
    return files


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "paths", help="where the shipped files are (scenario library, seed example, locustfile)",
        description="List the files shipped in the package, or print one path by NAME.",
    )
    parser.add_argument("name", nargs="?", metavar="NAME",
                        help=f"one of: {', '.join(SHIPPED)}")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    if args.name is not None:
        if args.name not in SHIPPED:
            raise UsageError(f"no shipped file {args.name!r}; one of: {', '.join(SHIPPED)}")
        print(shipped(args.name))
        return 0
    width = max(map(len, SHIPPED))
    for name, (_package, _resource, what) in SHIPPED.items():
        print(f"{name:<{width}}  {shipped(name)}  # {what}")
    print(f"library scenarios: {' '.join(library_scenarios())}")
    return 0
