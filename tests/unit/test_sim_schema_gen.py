"""The simulator's JSON Schema instances validate (checked with ``jsonschema``) and take what the prompt offers."""

from __future__ import annotations

from typing import Any, Literal

import jsonschema
import pytest
from pydantic import BaseModel, Field

from autodevai.sim.patterns import example, matches
from autodevai.sim.schema_gen import Hints, instance


class Tag(BaseModel):
    label: str = Field(min_length=3, max_length=5)
    weight: float = Field(gt=0, lt=1, multiple_of=0.1)


class Node(BaseModel):
    """Recursive: generation must stop."""

    value: int
    children: list[Node] = []
    parent: Node | None = None


class Order(BaseModel):
    customer: str
    items: list[Tag] = Field(min_length=2, max_length=3)
    status: Literal["new", "paid", "shipped"]
    code: str = Field(pattern=r"^[A-Z]{3}-\d{4}$")
    note: str | None = None
    tree: Node


SCHEMAS: list[Any] = [
    Order.model_json_schema(),
    Node.model_json_schema(),
    {"type": "object", "properties": {"n": {"type": "integer", "exclusiveMinimum": 10, "exclusiveMaximum": 12}}},
    {"type": "object", "properties": {"n": {"type": "number", "minimum": 5, "maximum": 5}}, "required": ["n"]},
    {"type": "array", "items": {"enum": ["a", "b", "c"]}, "minItems": 3, "uniqueItems": True},
    {"type": "array", "items": {"type": "string"}, "minItems": 2, "uniqueItems": True},
    {"type": "array", "prefixItems": [{"type": "string"}, {"type": "boolean"}], "items": False},
    {"type": "object", "minProperties": 2, "additionalProperties": {"type": "integer"}},
    {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a", "b"]},
    {"oneOf": [{"type": "null"}, {"type": "object", "properties": {"k": {"const": 3}}, "required": ["k"]}]},
    {"allOf": [{"$ref": "#/$defs/A"}, {"properties": {"b": {"type": "boolean"}}, "required": ["b"]}],
     "$defs": {"A": {"type": "object", "properties": {"a": {"type": "integer", "multipleOf": 7, "minimum": 20}},
                     "required": ["a"]}}},
    {"type": ["null", "string"], "format": "date-time"},
    {"$schema": "http://json-schema.org/draft-04/schema#",
     "type": "object", "properties": {"x": {"type": "integer", "minimum": 0, "exclusiveMinimum": True}}},
    {"type": "string", "pattern": "^(cat|dog)s?$"},
    {},
]  # fmt: skip
PROMPTS = [
    Hints("What's the weather in New York in fahrenheit for 5 days?"),
    Hints("What is 17*23?", 391),
    Hints("What is the capital of France?", "Paris"),
    Hints(""),
]


@pytest.mark.parametrize("schema", SCHEMAS, ids=range(len(SCHEMAS)))
@pytest.mark.parametrize("hints", PROMPTS, ids=["weather", "math", "capital", "empty"])
def test_instances_validate(schema: Any, hints: Hints) -> None:
    jsonschema.validate(instance(schema, hints), schema)


def test_values_come_from_the_prompt() -> None:
    schema = {
        "type": "object",
        "properties": {
            "location": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer"},
            "include_alerts": {"type": "boolean"},
            "query": {"type": "string"},
        },
    }
    got = instance(schema, Hints("Search for the weather in New York in fahrenheit for 5 days"))
    assert got == {
        "location": "New York",
        "unit": "fahrenheit",
        "days": 5,
        "include_alerts": False,
        "query": "the weather in New York in fahrenheit for 5 days",
    }
    assert instance(schema, Hints("Hello"))["unit"] == "celsius"  # nothing mentioned: the first member


def test_checkable_answer_goes_into_the_fitting_field() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"},
                                               "product": {"type": "integer"}}}  # fmt: skip
    assert instance(schema, Hints("What is 17*23?", 391)) == {"a": 17, "b": 23, "product": 391}
    nested = {"type": "object", "properties": {"meta": {"type": "object", "properties": {"n": {"type": "integer"}}},
                                               "city": {"type": "string", "maxLength": 3}}}  # fmt: skip
    assert instance(nested, Hints("What is the capital of Italy?", "Rome"))["city"] == "Rom"


@pytest.mark.parametrize("pattern", [r"^[A-Z]{3}-\d{4}$", r"^(foo|bar)+\d?$", r"^cat|dog$", r"^\+?[1-9]\d{1,14}$",
                                     r"^[^@]+@[^@]+\.[a-z]{2,}$", r"^v\d+\.\d+\.\d+(-[a-z]+)?$"])  # fmt: skip
def test_pattern_examples_match(pattern: str) -> None:
    assert matches(pattern, example(pattern))
