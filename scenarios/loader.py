"""Load scenario files: refuse a bad one before anything starts, naming every problem at once.

`load_scenario(path)` returns a `Scenario` or raises `ScenarioError`, whose `problems` are lines
`FILE:LINE:COL: field.path: reason`, sorted, covering every schema violation in the file (not
just the first) and then the checks a schema cannot express: matcher specs, charge point id
patterns, step targets, include files and cycles.

OCPP versions: a fleet group says `ocpp: "2.0.1"` (default "1.6"); each step's messages are
checked against the schemas of the versions of the charge points it acts on (its `cp:`, else
the including step's, else every charge point), so a 2.0.1 group's `expect:` names
TransactionEvent and a 1.6 group's StartTransaction, and a step acting on both must name what
both versions have.
"""

from __future__ import annotations

import functools
import json
import os
from collections import defaultdict
from collections.abc import Hashable, Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from chargebench.matching import MatcherSpecError, MessagePattern, compile_matcher
from chargebench.yamlpos import Positions, YamlFileError, dotted, load_file, schema_violations
from scenarios.model import VERBS, CsmsSpec, GroupSpec, Scenario, Step, variable_key
from scenarios.ocppcheck import (
    OCPP_VERSIONS,
    Problem,
    action_problem,
    matcher_problems,
    payload_problems,
    suggest,
    version_of,
)
from scenarios.values import has_variables, parse_duration, references

__all__ = ["LIBRARY", "SCHEMA", "ScenarioError", "load_scenario", "validate_file"]

SCHEMA: dict[str, Any] = json.loads(
    resources.files(__package__).joinpath("schema.json").read_text("utf-8")
)
LIBRARY = Path(str(resources.files(__package__).joinpath("library")))
#: The built-in CSMS's data when a scenario names no seed: the library's tags and tariff.
DEFAULT_SEED = str(LIBRARY.parent / "lab_seed.yaml")
_VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


#: Variables the runner gives every step (`${cp}`: the charge point it runs on; `${now}`,
#: `${now+10m}`: simulated time; `${csms.url}`: the CSMS's OCPP base URL), the file servers'
#: (`files:`) and the test PKI's (`tls: true`)
_RUNNER_VARIABLES = frozenset({"cp", "now", "csms.url"})
_FILE_VARIABLES = frozenset({"files.http", "files.ftp", "files.dir"})
_PKI_VARIABLES = frozenset({"pki.ca_pem"})


class ScenarioError(Exception):
    """The file cannot run as written; `problems` holds one FILE:LINE:COL line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class _Explaining:
    """Wraps the validator so that anyOf/oneOf failures say something useful.

    When exactly one branch fits the value's shape, its own errors are reported (an unknown
    field inside a mapping, say) instead of "is not valid under any of the given schemas";
    otherwise the schema's `x-message` explains the alternatives.
    """

    def __init__(self, validator: jsonschema.protocols.Validator) -> None:
        self._validator = validator

    def iter_errors(self, instance: Any) -> Iterator[jsonschema.ValidationError]:
        for error in self._validator.iter_errors(instance):
            yield from self._explain(error)

    def _explain(self, error: jsonschema.ValidationError) -> Iterator[jsonschema.ValidationError]:
        # Only a mapping or a list gains from the branch's details; a scalar gets x-message.
        container = isinstance(error.instance, dict | list)
        if error.validator in ("anyOf", "oneOf") and error.context and container:
            branches: dict[Any, list[jsonschema.ValidationError]] = defaultdict(list)
            for sub in error.context:
                branches[sub.relative_schema_path[0]].append(sub)
            fitting = [
                subs for subs in branches.values()
                if not any(s.validator in ("type", "required") and not s.relative_path
                           for s in subs)
            ]
            if len(fitting) == 1:
                for sub in fitting[0]:
                    yield from self._explain(sub)
                return
        message = _x_message(error)
        if message:
            error.message = message
        yield error


def _x_message(error: jsonschema.ValidationError) -> str | None:
    """The schema's own explanation, or one from an alternative that failed at the same spot
    (`plug_in: first` is explained by the connector definition inside the anyOf)."""
    if isinstance(error.schema, dict) and error.schema.get("x-message"):
        return error.schema["x-message"]
    for sub in error.context or ():
        if not sub.relative_path:
            found = _x_message(sub)
            if found:
                return found
    return None


class _FileLoader:
    """Loads one file; `problems` gathers every positioned complaint about it."""

    def __init__(self, path: Path, stack: tuple[Path, ...], targets: set[str] | None,
                 ocpp_of: dict[str, frozenset[str]] | None = None,
                 versions: frozenset[str] | None = None) -> None:
        """`targets`, `ocpp_of` (target name -> OCPP versions) and `versions` (those of the
        including step) come from the including file; the top file makes its own."""
        self.path = path
        self.stack = stack
        self.targets = targets
        self.ocpp_of = ocpp_of
        self.versions = versions
        self.problems: list[tuple[int, int, str]] = []
        self.positions: Positions
        self.requires: list[str] = []
        #: `${name}` uses (line, col, text) and the names this file and its includes define
        self.uses: list[tuple[int, int, str, str]] = []
        self.defined: set[str] = set()

    def complain(self, where: Sequence[Hashable], reason: str, *, key: bool = False) -> None:
        """A problem at the value `where` (or at its mapping key, with `key=True`)."""
        line, col = (self.positions.locate_key if key else self.positions.locate)(where)
        self.problems.append((line, col, f"{self.path}:{line}:{col}: {dotted(where)}: {reason}"))

    def load(self) -> Scenario:
        try:
            data, self.positions = load_file(self.path)
        except YamlFileError as error:
            raise ScenarioError([str(error)]) from None
        found = schema_violations(_Explaining(_VALIDATOR), data, self.positions, str(self.path))
        if found:
            raise ScenarioError([text for _, _, text in found])
        scenario = self.build(data)
        self.collect_variables(data, ())
        if not self.stack:  # the top file: includes have added their uses and definitions
            self.check_variables(data)
        if self.problems:
            raise ScenarioError([text for *_, text in sorted(set(self.problems))])
        return scenario

    # Building

    def build(self, data: dict[str, Any]) -> Scenario:
        fleet = self.fleet(data.get("fleet"))
        names = {g.name for g in fleet} | {cp for g in fleet for cp in g.ids} | {"all", "*"}
        if self.targets is None:
            self.targets = names
        if self.ocpp_of is None:
            self.ocpp_of = _versions_by_target(fleet)
        if self.versions is None:
            self.versions = self.ocpp_of["all"]
        self.requires = list(data.get("requires", []))
        steps = self.steps(data["steps"], ("steps",), self.versions)
        return Scenario(
            name=data["name"],
            source=self.path,
            steps=steps,
            description=data.get("description", "").strip(),
            requires=list(dict.fromkeys(self.requires)),
            speed=float(data.get("speed", 1.0)),
            timeout=parse_duration(data.get("timeout", 30)),
            repeat=int(data.get("repeat", 1)),
            variables=dict(data.get("variables", {})),
            csms=self.csms(data.get("csms") or {}),
            fleet=fleet,
            files=None if "files" not in data else dict(data["files"] or {}),
        )

    def relative(self, name: str) -> Path:
        return (self.path.parent / name).resolve()

    def csms(self, spec: Mapping[str, Any]) -> CsmsSpec:
        if "url" in spec:
            api = spec.get("api") or {}
            return CsmsSpec(
                builtin=False, url=spec["url"], security_profile=spec.get("security_profile", 0),
                credentials=dict(spec.get("credentials", {})),
                api_url=api.get("url"), api_token=api.get("token"),
            )
        builtin = spec.get("builtin")
        options = builtin if isinstance(builtin, dict) else {}
        seed = options.get("seed", DEFAULT_SEED)
        if isinstance(seed, str):
            seed = self.relative(seed)
            if not seed.is_file():
                self.complain(("csms", "builtin", "seed"), f"seed file not found: {seed}")
        interval = options.get("heartbeat_interval")
        return CsmsSpec(
            builtin=True, seed=seed, tls=bool(options.get("tls", False)),
            heartbeat_interval=None if interval is None else parse_duration(interval),
            security_profile=spec.get("security_profile", 0),
            credentials=dict(spec.get("credentials", {})),
        )

    def fleet(self, groups: list[dict[str, Any]] | None) -> list[GroupSpec]:
        if not groups:
            return [GroupSpec(name="cp", ids=["CP-001"])]
        built: list[GroupSpec] = []
        seen: dict[str, int] = {}
        for index, group in enumerate(groups):
            where = ("fleet", index)
            ids = self.group_ids(group, where)
            for cp in ids:
                if cp in seen:
                    self.complain((*where, "id"), f"charge point {cp} is also in fleet[{seen[cp]}]")
                seen.setdefault(cp, index)
            if group["group"] in (g.name for g in built):
                self.complain((*where, "group"), f"group {group['group']} is defined twice")
            ocpp = _ocpp_name(group.get("ocpp", "1.6"))
            template = group.get("template", {})
            config = template.get("config")
            if config is not None:
                config = self.relative(config)
                if ocpp == "2.0.1" and not config.is_dir():
                    self.complain((*where, "template", "config"),
                                  f"a 2.0.1 group's config is a libocpp component_config "
                                  f"folder; not a folder: {config}")
                elif ocpp != "2.0.1" and not config.is_file():
                    self.complain((*where, "template", "config"), f"file not found: {config}")
            if ocpp == "2.0.1":
                self.check_model(template, (*where, "template"), config, group.get("password"))
            else:
                self.check_template(template, (*where, "template"), config)
            self.check_faults(template.get("faults"), (*where, "template", "faults"))
            ramp = group.get("ramp", {})
            per_second = ramp.get("per_second")
            if "over" in ramp and len(ids) > 1:
                per_second = len(ids) / max(parse_duration(ramp["over"]), 0.001)
            built.append(GroupSpec(
                name=group["group"], ids=ids, ocpp=ocpp, config=config,
                overrides=dict(template.get("overrides", {})),
                hardware=dict(template.get("hardware", {})),
                faker_seed=group.get("faker_seed"), ramp_per_second=per_second,
                password=group.get("password"), faults=dict(template.get("faults") or {}),
            ))
        return built

    def check_template(self, template: Mapping[str, Any], where: tuple, config: Path | None
                       ) -> None:
        """The hardware section and the libocpp file, checked by the simulator's own rules."""
        from sim.config import ChargePointConfig, ConfigError
        from sim.hardware import Hardware, HardwareError

        try:
            Hardware.from_dict(template.get("hardware") or {})
        except HardwareError as error:
            self.complain((*where, "hardware", error.field), error.reason)
        if config is not None and config.is_file():
            try:
                ChargePointConfig.load(config)
            except ConfigError as error:
                self.complain((*where, "config"), f"{error.key or 'file'}: {error.reason}")

    def check_model(self, template: Mapping[str, Any], where: tuple, config: Path | None,
                    password: Any = None) -> None:
        """A 2.0.1 group: the hardware section, the component_config folder (the simulator's
        `DeviceModel.load`), `overrides: {Component: {Variable: value}}`, each variable one
        the device model has and each value one it takes, and the group's password (its
        SecurityCtrlr.BasicAuthPassword)."""
        from sim.hardware import Hardware, HardwareError
        from sim.v201.device_model import DeviceModelError, default_config_dir
        from sim.v201.device_model_values import check_value, to_text

        try:
            Hardware.from_dict(template.get("hardware") or {})
        except HardwareError as error:
            self.complain((*where, "hardware", error.field), error.reason)
        if config is not None and not config.is_dir():
            return
        try:
            model = _device_model(config or default_config_dir())
        except DeviceModelError as error:
            first = str(error).strip().splitlines() or ["invalid"]
            self.complain((*where, "config"), first[0])
            return
        spec = model.find("SecurityCtrlr", "BasicAuthPassword")
        if isinstance(password, str) and spec is not None:
            problem = check_value(spec.characteristics, password)
            if problem is not None:
                self.complain((*where[:-1], "password"),
                              f"SecurityCtrlr.BasicAuthPassword: {problem[1]}")
        overrides = template.get("overrides") or {}
        for component, values in overrides.items():
            if not isinstance(values, Mapping):
                self.complain((*where, "overrides", component), "{Variable: value} expected")
                continue
            for variable, value in values.items():
                spot = (*where, "overrides", component, variable)
                name, instance = variable_key(str(variable))
                spec = model.find(component, name, variable_instance=instance)
                if spec is None:
                    self.complain(spot, f"{component}.{variable} is not in the device model "
                                        f"({model.folder.name})", key=True)
                    continue
                if has_variables(str(value)):
                    continue
                problem = check_value(spec.characteristics, to_text(value))
                if problem is not None:
                    self.complain(spot, f"{component}.{variable}: {problem[1]}")

    def check_faults(self, spec: Mapping[str, Any] | None, where: tuple) -> None:
        """A fault plan the simulator would refuse (`sim.features.faults.FaultPlan`)."""
        from sim.features.faults import FaultPlan

        if not spec or has_variables(spec):
            return
        plan = {key: value for key, value in spec.items() if key != "firmware"}
        try:
            FaultPlan.from_dict(plan)
        except (TypeError, ValueError) as error:
            self.complain(where, f"not a fault plan: {error}")

    def group_ids(self, group: Mapping[str, Any], where: tuple) -> list[str]:
        if "ids" in group:
            if "count" in group and group["count"] != len(group["ids"]):
                given = len(group["ids"])
                self.complain((*where, "count"), f"count {group['count']} but {given} ids")
            return list(group["ids"])
        pattern = group.get("id", group["group"].upper() + "-{n:03}")
        try:
            ids = [pattern.format(n=n) for n in range(1, group.get("count", 1) + 1)]
        except (KeyError, IndexError, ValueError) as error:
            self.complain((*where, "id"), f"bad id pattern ({error}); use {{n}} or {{n:03}}")
            return []
        if len(set(ids)) != len(ids):
            self.complain((*where, "id"), "the id pattern gives the same id twice; use {n}")
        return ids

    def steps(self, items: list[dict[str, Any]], where: tuple, versions: frozenset[str]
              ) -> list[Step]:
        return [self.step(item, (*where, index), versions) for index, item in enumerate(items)]

    def step(self, item: dict[str, Any], where: tuple, versions: frozenset[str]) -> Step:
        verb = next(key for key in item if key in VERBS)
        args = item[verb]
        line, _ = self.positions.locate(where)
        on = item.get("cp")
        step = Step(verb=verb, args=args, where=f"{self.path}:{line}", name=item.get("name"),
                    on=[on] if isinstance(on, str) else on)
        self.check_target(step.on, (*where, "cp"))
        versions = self.versions_of(step.on, versions)
        self.check_args(verb, args, (*where, verb), versions)
        if verb in ("parallel", "sequence"):
            step.children = self.steps(args, (*where, verb), versions)
        elif verb == "repeat":
            step.children = self.steps(args["steps"], (*where, verb, "steps"), versions)
        elif verb == "include":
            self.include(step, (*where, verb), versions)
        return step

    def versions_of(self, on: list[str] | None, inherited: frozenset[str]) -> frozenset[str]:
        """The OCPP versions a step acts on: those of its `cp:` targets (a `${name}` target
        may be any charge point), else the ones it inherits."""
        if not on or self.ocpp_of is None:
            return inherited
        every = self.ocpp_of["all"]
        found: set[str] = set()
        for name in on:
            found |= every if has_variables(name) else self.ocpp_of.get(name, frozenset())
        return frozenset(found) or inherited

    def check_target(self, on: list[str] | None, where: tuple) -> None:
        for index, name in enumerate(on or []):
            if self.targets is not None and name not in self.targets and not has_variables(name):
                spot = where if len(on or []) == 1 else (*where, index)
                known = ", ".join(sorted(self.targets - {"*"}))
                self.complain(spot, f"unknown charge point or group {name!r} (known: {known})")

    def collect_variables(self, value: Any, where: tuple) -> None:
        """Every `${name}` this file uses, and every name it defines: `variables:`, `capture:`
        in a matcher, `set:`, `repeat: {as:}` and `include: {with:}`."""
        if isinstance(value, str):
            line, col = self.positions.locate(where)
            self.uses.extend((line, col, str(self.path), name) for name in references(value))
        elif isinstance(value, Mapping):
            for key, inner in value.items():
                if key == "capture" and isinstance(inner, str):
                    self.defined.add(inner)
                elif key in ("set", "variables", "with") and isinstance(inner, Mapping):
                    self.defined.update(map(str, inner))
                elif key == "repeat" and isinstance(inner, Mapping) and inner.get("as"):
                    self.defined.add(str(inner["as"]))
                self.collect_variables(inner, (*where, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.collect_variables(item, (*where, index))

    def check_variables(self, data: dict[str, Any]) -> None:
        """A `${name}` nothing defines fails when its step runs; say so now, where it is."""
        known = self.defined | _RUNNER_VARIABLES
        if "files" in data:
            known |= _FILE_VARIABLES
        builtin = (data.get("csms") or {}).get("builtin")
        if isinstance(builtin, Mapping) and builtin.get("tls"):
            known |= _PKI_VARIABLES
        for line, col, path, name in self.uses:
            if name in known:
                continue
            if name in _FILE_VARIABLES:
                hint = " (the scenario has no files: section)"
            elif name in _PKI_VARIABLES:
                hint = " (needs csms: {builtin: {tls: true}})"
            else:
                hint = suggest(name, known) or " (define it in variables:, capture it or set: it)"
            self.problems.append(
                (line, col, f"{path}:{line}:{col}: ${{{name}}} is not defined{hint}"))

    def check_message(self, verb: str, args: Mapping[str, Any], where: tuple,
                      versions: frozenset[str]) -> None:
        """Action names, payloads and reply matchers against the OCPP schemas of every version
        the step acts on (1.6, 2.0.1)."""
        action = args.get("action")
        both = len(versions) > 1
        for name in sorted(versions):
            version = version_of(name)
            problem = action_problem(verb, action, version)
            if problem:
                if both:
                    problem += (f"; the step acts on {' and '.join(sorted(versions))} charge "
                                "points: give it a cp: of one version")
                self.complain((*where, "action"), problem)
                return
            if not isinstance(action, str) or has_variables(action):
                return
            found: list[tuple[str, Problem]] = []
            if verb in ("send", "command"):
                found += [("payload", p) for p in
                          payload_problems(action, args.get("payload"), False, version)]
                if "reply" in args:
                    found += [("reply", p) for p in
                              matcher_problems(action, args["reply"], True, version)]
            elif "payload" in args and args.get("type", "CALL") != "CALLERROR":
                response = args.get("type") == "CALLRESULT"
                found += [("payload", p) for p in
                          matcher_problems(action, args["payload"], response, version)]
            for part, (path, reason, key) in found:
                self.complain((*where, part, *path), reason, key=key)

    def check_args(self, verb: str, args: Any, where: tuple,
                   versions: frozenset[str] = frozenset({"1.6"})) -> None:
        if verb in ("send", "command", "expect", "expect_not") and isinstance(args, Mapping):
            self.check_message(verb, args, where, versions)
        try:
            if verb in ("expect", "expect_not"):
                MessagePattern.from_spec(args, placeholder=has_variables)
            elif verb == "fault_plan":
                self.check_faults(args, where)
            elif verb in ("send", "command") and "reply" in args:
                compile_matcher(args["reply"], ("reply",), placeholder=has_variables)
            elif verb == "assert":
                for kind, spec in args.items():
                    if kind != "within":
                        compile_matcher(spec, (kind,), placeholder=has_variables)
        except MatcherSpecError as error:
            self.complain((*where, *error.path), error.reason)

    def include(self, step: Step, where: tuple, versions: frozenset[str]) -> None:
        args = step.args if isinstance(step.args, dict) else {"file": step.args}
        target = self.find_include(args["file"])
        if target is None:
            self.complain(where, f"include file not found: {args['file']}")
            return
        if target in self.stack or target == self.path.resolve():
            chain = " -> ".join(p.name for p in (*self.stack, self.path, target))
            self.complain(where, f"include cycle: {chain}")
            return
        try:
            shown = Path(os.path.relpath(target))  # FILE:LINE as the user would type it
            loader = _FileLoader(shown, (*self.stack, self.path.resolve()), self.targets,
                                 self.ocpp_of, versions)
            inner = loader.load()
        except ScenarioError as error:
            self.problems.extend((0, 0, text) for text in error.problems)
            return
        self.uses.extend(loader.uses)
        self.defined |= loader.defined
        self.requires.extend(inner.requires)
        step.children = inner.steps
        step.scope = {**inner.variables, **args.get("with", {})}
        step.args = str(args["file"])

    def find_include(self, name: str) -> Path | None:
        """Relative to the including file first, then the scenario library."""
        for base in (self.path.parent, LIBRARY):
            candidate = (base / name).resolve()
            if candidate.is_file():
                return candidate
        return None


def _ocpp_name(value: Any) -> str:
    """A group's `ocpp:` as its version name (the schema allows "1.6", "2.0.1" and 1.6, which
    YAML reads as a number)."""
    text = str(value)
    return text if text in OCPP_VERSIONS else "1.6"


@functools.cache
def _device_model(folder: Path) -> Any:
    """A component_config folder loaded once per process (the loader only reads it)."""
    from sim.v201.device_model import DeviceModel

    return DeviceModel.load(folder)


def _versions_by_target(fleet: list[GroupSpec]) -> dict[str, frozenset[str]]:
    """What a `cp:` name stands for, as OCPP versions: a group, a charge point, `all`/`*`."""
    found: dict[str, frozenset[str]] = {}
    for group in fleet:
        found[group.name] = found.get(group.name, frozenset()) | {group.ocpp}
        found.update(dict.fromkeys(group.ids, frozenset({group.ocpp})))
    found["all"] = found["*"] = frozenset(g.ocpp for g in fleet) or frozenset({"1.6"})
    return found


def load_scenario(path: str | Path) -> Scenario:
    """The scenario in `path`, or `ScenarioError` listing every problem with FILE:LINE:COL."""
    return _FileLoader(Path(path), (), None).load()


def validate_file(path: str | Path) -> list[str]:
    """The problems of a scenario file (empty when it would load), for `chargebench run --check`."""
    try:
        load_scenario(path)
    except ScenarioError as error:
        return error.problems
    return []
