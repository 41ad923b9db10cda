"""Compiles form definitions (forms.definitions) to marshmallow schemas, once each."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from forms.definitions import CHOICES, FORMS
from forms.resident_id import id_number_problem


class UnknownForm(LookupError):
    pass


class ExactDecimal(fields.Field):
    """A decimal from a string of ASCII digits or a JSON number, never a float, with at most
    `places` decimal places. Money uses places=2: 30000.123 is refused, not rounded."""

    _TEXT = re.compile(r"^-?[0-9]{1,18}(\.[0-9]{1,12})?$")  # [0-9]: \d would also take full-width digits

    def __init__(self, places: int | None, **kwargs):
        super().__init__(**kwargs)
        self.places = places

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise ValidationError("must be a number written as digits, e.g. \"30000.00\"")
        if isinstance(value, str) and not self._TEXT.match(value):
            raise ValidationError("must be plain digits with an optional decimal point, e.g. \"30000.00\"")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValidationError("is not a number") from None
        if not number.is_finite() or number.adjusted() > 15:
            raise ValidationError("is not a sensible amount")
        if self.places is not None and number.as_tuple().exponent < -self.places:
            raise ValidationError(f"has more than {self.places} decimal places")
        return number.quantize(Decimal(1).scaleb(-self.places)) if self.places is not None else number

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)


class _FormSchema(Schema):
    """Cross-field checks declared on the fields ("not_more_than": other field; "required_when":
    [other field, value])."""
    cross_checks: tuple = ()
    conditions: tuple = ()

    @validates_schema
    def _cross_field_checks(self, data, **kwargs):
        problems = {}
        for name, other in self.cross_checks:
            if data.get(name) is not None and data.get(other) is not None and data[name] > data[other]:
                problems[name] = [f"cannot be more than {other} ({data[other]})"]
        for name, (other, value) in self.conditions:
            if data.get(other) == value and data.get(name) in (None, ""):
                problems[name] = [f"is required when {other} is {value}"]
        if problems:
            raise ValidationError(problems)


def _field(spec: dict, form: str) -> fields.Field:
    required = bool(spec.get("required"))
    kind = spec["type"]
    checks = []
    if kind == "string":
        if spec.get("max_length"):
            checks.append(validate.Length(min=1 if required else 0, max=spec["max_length"]))
        if spec.get("pattern"):
            checks.append(validate.Regexp(spec["pattern"], error=spec.get("pattern_message", "has the wrong format")))
        if spec.get("check") == "resident_id":
            checks.append(_valid_resident_id)
        return fields.String(required=required, validate=checks, allow_none=not required)
    if kind == "url":
        return fields.String(required=required, allow_none=not required, validate=[
            validate.Length(max=spec.get("max_length", 500)),
            validate.URL(schemes={"http", "https"}, require_tld=False)])
    if kind in ("decimal", "money"):
        checks.append(validate.Range(min=Decimal(spec["min"]) if "min" in spec else None,
                                     max=Decimal(spec["max"]) if "max" in spec else None))
        return ExactDecimal(2 if kind == "money" else None, required=required, validate=checks,
                            allow_none=not required)
    if kind == "integer":
        checks.append(validate.Range(min=spec.get("min"), max=spec.get("max")))
        return fields.Integer(required=required, strict=True, validate=checks, allow_none=not required)
    if kind == "boolean":
        return fields.Boolean(required=required, allow_none=not required)
    if kind == "datetime":
        return fields.DateTime(required=required, allow_none=not required)
    if kind == "date":
        return fields.Date(required=required, allow_none=not required)
    if kind == "choice":
        return fields.String(required=required, validate=validate.OneOf(CHOICES[spec["choices"]]),
                             allow_none=not required)
    if kind == "choice_list":
        return fields.List(fields.String(validate=validate.OneOf(CHOICES[spec["choices"]])),
                           required=required, allow_none=not required,
                           validate=validate.Length(min=1) if required else None)
    if kind == "code_list":  # e.g. branch codes, which are data (new branches come without code)
        return fields.List(fields.String(validate=validate.Regexp(r"^[A-Z0-9][A-Z0-9-]{1,15}$",
                                                                  error="must be a code such as BR001")),
                           required=required, allow_none=not required,
                           validate=validate.Length(min=1 if required else 0, max=spec.get("max_items", 50)))
    if kind == "object":
        # named after its form too: two forms' "address" are two schemas in the OpenAPI document
        return fields.Nested(_schema(spec["fields"], f"{form}_{spec['name']}"), required=required)
    if kind == "object_list":  # e.g. a household's members: a bounded list of small objects
        return fields.List(fields.Nested(_schema(spec["fields"], f"{form}_{spec['name']}")), required=required,
                           allow_none=not required, validate=validate.Length(max=spec.get("max_items", 50)))
    if kind == "key_values":  # e.g. correlation keys: short names to text
        return fields.Dict(keys=fields.String(validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$",
                                                                       error="must be a key such as loan_id")),
                           values=fields.String(validate=validate.Length(min=1, max=200)),
                           required=required, validate=validate.Length(min=1 if required else 0, max=10))
    if kind == "json_object":  # free data; what a process may store is checked where it is stored
        return fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=64)), required=required,
                           load_default=dict)
    raise UnknownForm(f"unknown field type {kind!r}")


def _valid_resident_id(value: str) -> None:
    """The check digit and birth date; the shape is the field's pattern, reported once."""
    problem = id_number_problem(value) if value else None
    if problem and not problem.startswith("ID number must be"):
        raise ValidationError(problem)


def _schema(field_specs: list[dict], name: str) -> Schema:
    attrs = {spec["name"]: _field(spec, name) for spec in field_specs}
    attrs["cross_checks"] = tuple((spec["name"], spec["not_more_than"]) for spec in field_specs
                                  if spec.get("not_more_than"))
    attrs["conditions"] = tuple((spec["name"], tuple(spec["required_when"])) for spec in field_specs
                                if spec.get("required_when"))
    schema_class = type(f"{name.title()}Form", (_FormSchema,), attrs)
    # Unknown keys are refused, so a misspelt field is an error rather than silently dropped.
    return schema_class(unknown=RAISE)


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
