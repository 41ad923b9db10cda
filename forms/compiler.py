"""Compiles form definitions (forms.definitions) to marshmallow schemas, once each."""
from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from forms.definitions import CHOICES, FORMS


class UnknownForm(LookupError):
    pass


def _field(spec: dict) -> fields.Field:
    required = bool(spec.get("required"))
    kind = spec["type"]
    checks = []
    if kind == "string":
        if spec.get("max_length"):
            checks.append(validate.Length(min=1 if required else 0, max=spec["max_length"]))
        if spec.get("pattern"):
            checks.append(validate.Regexp(spec["pattern"], error=spec.get("pattern_message", "has the wrong format")))
        return fields.String(required=required, validate=checks, allow_none=not required)
    if kind == "url":
        return fields.String(required=required, allow_none=not required, validate=[
            validate.Length(max=spec.get("max_length", 500)),
            validate.URL(schemes={"http", "https"}, require_tld=False)])
    if kind == "decimal":
        checks.append(validate.Range(min=Decimal(spec["min"]) if "min" in spec else None,
                                     max=Decimal(spec["max"]) if "max" in spec else None))
        return fields.Decimal(required=required, validate=checks, as_string=True, places=None,
                              allow_nan=False, allow_none=not required)
    if kind == "integer":
        checks.append(validate.Range(min=spec.get("min"), max=spec.get("max")))
        return fields.Integer(required=required, strict=True, validate=checks, allow_none=not required)
    if kind == "boolean":
        return fields.Boolean(required=required, allow_none=not required)
    if kind == "datetime":
        return fields.DateTime(required=required, allow_none=not required)
    if kind == "choice":
        return fields.String(required=required, validate=validate.OneOf(CHOICES[spec["choices"]]),
                             allow_none=not required)
    if kind == "choice_list":
        return fields.List(fields.String(validate=validate.OneOf(CHOICES[spec["choices"]])),
                           required=required, allow_none=not required)
    if kind == "object":
        return fields.Nested(_schema(spec["fields"], spec["name"]), required=required)
    raise UnknownForm(f"unknown field type {kind!r}")


def _schema(field_specs: list[dict], name: str) -> Schema:
    attrs = {spec["name"]: _field(spec) for spec in field_specs}
    # Unknown keys are refused, so a misspelt field is an error rather than silently dropped.
    return Schema.from_dict(attrs, name=f"{name.title()}Form")(unknown=RAISE)


@lru_cache(maxsize=None)
def schema_for(form_name: str) -> Schema:
    if form_name not in FORMS:
        raise UnknownForm(form_name)
    return _schema(FORMS[form_name]["fields"], form_name)


def form_names() -> set[str]:
    return set(FORMS)


def load_form(form_name: str, payload) -> dict:
    """Validated, typed data (Decimals for money); raises marshmallow.ValidationError."""
    if not isinstance(payload, dict):
        raise ValidationError({"_schema": ["expected a JSON object"]})
    return schema_for(form_name).load(payload)


def describe_form(form_name: str) -> dict:
    if form_name not in FORMS:
        raise UnknownForm(form_name)
    return {"name": form_name, **FORMS[form_name], "choices": CHOICES}
