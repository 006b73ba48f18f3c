"""Every module's EXAMPLES, checked as Ansible would check them: each task of one of our modules against that
module's argument spec (with the options amazon.aws adds to every AWS module), and every `registered.key` an
example reads against the RETURN of the module that registered it.

A templated value (`{{ ... }}`) is known only at run time: it stands in as a placeholder of its option's type."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.amazon.aws.plugins.module_utils.modules import aws_argument_spec

from tests.conftest import REPO
from tests.support.ansible_run import run_module

PREFIX = "hippolyte.dynamodb."
MODULES = sorted(p.stem for p in (REPO / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
TEMPLATE = re.compile(r"{{(.*?)}}", re.S)
ATTRIBUTE = re.compile(r"\b([A-Za-z_]\w*)\.([A-Za-z_]\w*)")
BLOCK_KEYS = ("block", "rescue", "always")
SCALAR_PLACEHOLDERS = {"str": "placeholder", "path": "/placeholder", "raw": "placeholder", "int": 1,
                       "float": 1.0, "bool": True, "list": [], "jsonarg": "{}", "json": "{}"}


def module_of(name: str) -> Any:
    return importlib.import_module(f"ansible_collections.hippolyte.dynamodb.plugins.modules.{name}")


def full_spec(name: str) -> dict[str, Any]:
    """What AnsibleAWSModule validates: the common AWS options, then the module's own."""
    return {**aws_argument_spec(), **module_of(name).ARGUMENT_SPEC}


def tasks(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for task in items:
        yield task
        for key in BLOCK_KEYS:
            yield from tasks(task.get(key, []))


def our_module(task: dict[str, Any]) -> str | None:
    return next((key[len(PREFIX):] for key in task if key.startswith(PREFIX)), None)


def placeholder(option: dict[str, Any]) -> Any:
    """A value of the option's type; a dict holds its required suboptions so that it passes their checks."""
    kind = option.get("type", "str")
    if kind == "dict":
        return {key: placeholder(sub) for key, sub in (option.get("options") or {}).items() if sub.get("required")}
    return SCALAR_PLACEHOLDERS[kind]


def untemplated(args: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in args.items():
        option = spec.get(key) or next((o for o in spec.values() if key in o.get("aliases", [])), {})
        if isinstance(value, str) and "{{" in value:
            out[key] = placeholder(option)
        elif isinstance(value, dict) and option.get("options"):
            out[key] = untemplated(value, option["options"])
        else:
            out[key] = value
    return out


def expressions(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield from TEMPLATE.findall(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from expressions(item)
    elif isinstance(value, list):
        for item in value:
            yield from expressions(item)


def return_keys(name: str) -> set[str]:
    return set(yaml.safe_load(module_of(name).RETURN) or {})


@pytest.mark.parametrize("name", MODULES)
def test_every_example_passes_the_argument_spec(name: str) -> None:
    examples = yaml.safe_load(module_of(name).EXAMPLES)
    checked = 0
    for task in tasks(examples):
        used = our_module(task)
        if used is None:
            continue
        spec = full_spec(used)
        result = ArgumentSpecValidator(spec).validate(untemplated(task[f"{PREFIX}{used}"], spec))
        assert not result.error_messages, f"{name} EXAMPLES, task {task['name']!r}: {result.error_messages}"
        checked += 1
    assert checked >= 1, f"{name} EXAMPLES call none of the collection's modules"
    assert any(our_module(task) == name for task in tasks(examples)), f"{name} EXAMPLES never call {name}"


@pytest.mark.parametrize("name", MODULES)
def test_examples_read_only_what_the_modules_return(name: str) -> None:
    """`plan.plan.clusters` passes any argument spec, and fails when run: `plan` has no key `plan`."""
    registered: dict[str, str] = {}
    for task in tasks(yaml.safe_load(module_of(name).EXAMPLES)):
        for expression in expressions({k: v for k, v in task.items() if k != "register"}):
            for var, key in ATTRIBUTE.findall(expression):
                if var in registered:
                    assert key in return_keys(registered[var]) | {"failed", "changed", "msg"}, (
                        f"{name} EXAMPLES, task {task['name']!r}: {var}.{key}, but "
                        f"{registered[var]} returns no {key!r}")
        used = our_module(task)
        if used is not None and "register" in task:
            registered[task["register"]] = used


def test_a_wrong_example_is_caught() -> None:
    """The checks above can fail: a string for the dict option `window`, and a key the plan does not return."""
    spec = full_spec("dynamodb_backup_plan")
    wrong = ArgumentSpecValidator(spec).validate(untemplated({"window": "01:00-08:00"}, spec))
    assert any("window" in message for message in wrong.error_messages)
    assert "plan" not in return_keys("dynamodb_backup_plan")
    assert "clusters" in return_keys("dynamodb_backup_plan")


def test_the_what_if_plan_example_runs() -> None:
    """The one example that needs no AWS (its tables are given inline) runs for real, as written."""
    (example,) = [task for task in tasks(yaml.safe_load(module_of("dynamodb_backup_plan").EXAMPLES))
                  if "tables" in task.get(f"{PREFIX}dynamodb_backup_plan", {})]
    result = run_module("dynamodb_backup_plan", example[f"{PREFIX}dynamodb_backup_plan"])
    assert not result.failed, result.output
    planned = {table["name"] for cluster in result.result["clusters"] for table in cluster["tables"]}
    assert planned == {"orders", "sessions"}
    assert result.result["engine"] == "emr"
