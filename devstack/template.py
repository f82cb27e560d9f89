"""Read ``template.yaml`` the way CloudFormation would, for the local stack.

The dev stack takes its tables, secrets, functions and routes from the template itself, so the
local system and the deployed one cannot drift. Intrinsic functions are resolved against local
values (parameter defaults, local resource names).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = REPO_ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that turns short-form intrinsics (``!Ref X``) into their long form and refuses
    a key twice in one mapping (YAML would silently keep the last; CloudFormation refuses it)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        duplicates = sorted({str(k) for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"duplicate keys {duplicates} in the mapping at line {node.start_mark.line + 1}")
        return super().construct_mapping(node, deep=deep)


def _intrinsic(tag: str) -> Callable[[yaml.SafeLoader, yaml.Node], Any]:
    name = "Ref" if tag == "Ref" else f"Fn::{tag}"

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag == "GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {name: value}

    return construct


for _tag in (
    "Ref",
    "GetAtt",
    "Sub",
    "Join",
    "Select",
    "Split",
    "If",
    "Equals",
    "Not",
    "And",
    "Or",
    "FindInMap",
    "ImportValue",
    "Base64",
    "GetAZs",
    "Condition",
):
    _CfnLoader.add_constructor(f"!{_tag}", _intrinsic(_tag))


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as plain data, intrinsics in long form."""
    with path.open() as fh:
        data = yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - _CfnLoader derives from SafeLoader
    if not isinstance(data, dict) or "Resources" not in data:
        raise ValueError(f"{path} is not a CloudFormation template")
    return data


@dataclass
class Resolver:
    """Resolves intrinsics with local values: ``refs`` (Ref) and ``attrs`` (GetAtt "Logical.Attr")."""

    refs: dict[str, Any] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                name = ".".join(arg) if isinstance(arg, list) else arg
                if name not in self.attrs:
                    raise KeyError(f"no local value for GetAtt {name}")
                return self.attrs[name]
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                sep, parts = arg
                return sep.join(str(self.resolve(p)) for p in parts)
        return {k: self.resolve(v) for k, v in value.items()}

    def _ref(self, name: str) -> Any:
        if name not in self.refs:
            raise KeyError(f"no local value for Ref {name}")
        return self.refs[name]

    def _sub(self, arg: Any) -> str:
        text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in extra:
                return str(extra[name])
            if "." in name:
                return str(self.attrs[name])
            return str(self._ref(name))

        return re.sub(r"\$\{([^}!]+)\}", replace, text)


def parameter_defaults(
    template: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Parameter values: the template's defaults, then ``overrides``."""
    values = {name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()}
    values.update(overrides or {})
    missing = [k for k, v in values.items() if v is None]
    if missing:
        raise ValueError(f"parameters without a default need a value: {', '.join(missing)}")
    return values


def resources_of_type(template: Mapping[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v.get("Type") == resource_type}


@dataclass(frozen=True)
class ApiRoute:
    """One ``Type: Api`` event of one function."""

    function: str
    method: str  # upper case, or ANY
    path: str  # as in the template, e.g. /oauth/callback/{provider}


@dataclass(frozen=True)
class FunctionSpec:
    """A function of the template, as the local stack runs it."""

    logical_id: str
    code_dir: Path
    handler: str  # module.function
    environment: dict[str, Any]
    timeout: int
    memory: int
    routes: tuple[ApiRoute, ...]
    events: dict[str, Any] = field(default_factory=dict)  # every event source, as in the template


def functions(template: Mapping[str, Any]) -> list[FunctionSpec]:
    """Every AWS::Serverless::Function with its Globals applied (environment unresolved)."""
    globals_fn = template.get("Globals", {}).get("Function", {})
    out = []
    for logical_id, res in resources_of_type(template, "AWS::Serverless::Function").items():
        props = res.get("Properties", {})
        env = dict(globals_fn.get("Environment", {}).get("Variables", {}))
        env.update(props.get("Environment", {}).get("Variables", {}))
        routes = tuple(
            ApiRoute(logical_id, str(ev["Properties"]["Method"]).upper(), ev["Properties"]["Path"])
            for ev in props.get("Events", {}).values()
            if ev.get("Type") == "Api"
        )
        out.append(
            FunctionSpec(
                logical_id=logical_id,
                code_dir=REPO_ROOT / props["CodeUri"],
                handler=props.get("Handler", globals_fn.get("Handler", "app.lambda_handler")),
                environment=env,
                timeout=int(props.get("Timeout", globals_fn.get("Timeout", 3))),
                memory=int(props.get("MemorySize", globals_fn.get("MemorySize", 128))),
                routes=routes,
                events=dict(props.get("Events", {})),
            )
        )
    return out
