"""Reading infra/template.yaml: CloudFormation's short tags as their long forms, and lookups."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
TEMPLATE = INFRA / "template.yaml"
STATE_MACHINE = INFRA / "statemachine" / "analyze_job.asl.json"

Template = dict[str, Any]


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that reads `!Ref X` as {"Ref": "X"}, `!GetAtt A.B` as {"Fn::GetAtt": [A, B]},
    `!Sub s` as {"Fn::Sub": s} and so on for every other short tag."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE) -> Template:
    with path.open(encoding="utf-8") as stream:
        loaded: Template = yaml.load(stream, Loader=_CfnLoader)
    return loaded


def resources(template: Template, type_: str) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == type_
    }


def properties(template: Template, name: str) -> dict[str, Any]:
    props: dict[str, Any] = template["Resources"][name].get("Properties", {})
    return props


def parameter_default(template: Template, value: Any) -> Any:
    """The default of the parameter that `value` ({"Ref": parameter}) names."""
    assert isinstance(value, dict), f"expected a Ref to a parameter, got {value!r}"
    assert set(value) == {"Ref"}, f"expected a Ref to a parameter, got {value!r}"
    return template["Parameters"][value["Ref"]]["Default"]


def function_property(template: Template, name: str, key: str) -> Any:
    """A function's property, or the Globals value it inherits."""
    props = properties(template, name)
    if key in props:
        return props[key]
    return template.get("Globals", {}).get("Function", {}).get(key)


def function_environment(template: Template, name: str) -> dict[str, Any]:
    """Globals' variables merged with the function's own, as SAM merges them."""
    globals_env = template.get("Globals", {}).get("Function", {}).get("Environment", {})
    own_env = properties(template, name).get("Environment", {})
    return {**globals_env.get("Variables", {}), **own_env.get("Variables", {})}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


_POLICY_DOCUMENT_TYPES = {
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::S3::BucketPolicy",
    "AWS::SNS::TopicPolicy",
}


def policy_statements(template: Template) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every permission statement of every role, policy and bucket policy, by resource name."""
    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        documents: list[dict[str, Any]] = []
        if resource["Type"] == "AWS::IAM::Role":
            documents += [policy["PolicyDocument"] for policy in props.get("Policies", [])]
        elif resource["Type"] in _POLICY_DOCUMENT_TYPES:
            documents.append(props["PolicyDocument"])
        elif resource["Type"] == "AWS::Serverless::Function":
            for policy in as_list(props.get("Policies", [])):
                if isinstance(policy, dict) and "Statement" in policy:
                    documents.append(policy)
        for document in documents:
            for statement in as_list(document["Statement"]):
                yield name, statement


def role_actions(template: Template, role: str) -> set[str]:
    """The actions a role allows, across its inline policies."""
    return {
        action
        for policy in properties(template, role)["Policies"]
        for statement in as_list(policy["PolicyDocument"]["Statement"])
        if statement["Effect"] == "Allow"
        for action in as_list(statement["Action"])
    }


_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def sub_variables(text: str) -> set[str]:
    """The ${...} variables of a Fn::Sub string (${!Literal} escapes excluded)."""
    return set(_SUB_VARIABLE.findall(text))


# --------------------------------------------------------------------------- conditions

PSEUDO = {
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}


def parameter_values(template: Template, **overrides: str) -> dict[str, str]:
    """Every parameter's value as a string (CloudFormation's view), defaults then overrides."""
    values = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    unknown = set(overrides) - set(values) - {"AWS::Region", "AWS::StackName"}
    assert not unknown, f"no such parameters: {unknown}"
    return {**values, **overrides}


def evaluate(template: Template, value: Any, params: dict[str, str]) -> Any:
    """Resolve Ref, Sub, If, Equals, Not, And, Or and Condition over parameter values: enough
    to know which resources a parameter set creates and what global names they take."""
    conditions = template.get("Conditions", {})
    if isinstance(value, list):
        return [evaluate(template, item, params) for item in value]
    if not isinstance(value, dict):
        return value
    intrinsic = len(value) == 1 and next(iter(value)) in _INTRINSICS
    if not intrinsic:
        return {key: evaluate(template, item, params) for key, item in value.items()}
    ((key, argument),) = value.items()
    if key == "Ref":
        if argument in params:
            return params[argument]
        if argument in PSEUDO:
            return PSEUDO[argument]
        return {"Ref": argument}  # a resource: left as is
    if key == "Condition":
        return bool(evaluate(template, conditions[argument], params))
    if key == "Fn::Equals":
        left, right = (evaluate(template, side, params) for side in argument)
        return str(left) == str(right)
    if key == "Fn::Not":
        return not evaluate(template, argument[0], params)
    if key == "Fn::And":
        return all(evaluate(template, item, params) for item in argument)
    if key == "Fn::Or":
        return any(evaluate(template, item, params) for item in argument)
    if key == "Fn::If":
        name, when_true, when_false = argument
        chosen = when_true if evaluate(template, {"Condition": name}, params) else when_false
        return evaluate(template, chosen, params)
    if key == "Fn::Sub" and isinstance(argument, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in params:
                return params[name]
            if name in PSEUDO:
                return PSEUDO[name]
            return match.group(0)

        return _SUB_VARIABLE.sub(substitute, argument)
    return {key: evaluate(template, argument, params)}  # GetAtt and others: left as they are


_INTRINSICS = {
    "Ref",
    "Condition",
    "Fn::Equals",
    "Fn::Not",
    "Fn::And",
    "Fn::Or",
    "Fn::If",
    "Fn::Sub",
}


def created_resources(template: Template, **overrides: str) -> set[str]:
    """The logical ids a stack with these parameters creates (before SAM's own resources)."""
    params = parameter_values(template, **overrides)
    return {
        name
        for name, resource in template["Resources"].items()
        if "Condition" not in resource
        or evaluate(template, {"Condition": resource["Condition"]}, params)
    }
