"""Form definitions as JSON Schema, for the OpenAPI document (and any client generator)."""
from __future__ import annotations

from forms.definitions import CHOICES, FORMS


def field_schema(spec: dict) -> dict:
    kind = spec["type"]
    schema: dict
    if kind == "string":
        schema = {"type": "string"}
        if spec.get("max_length"):
            schema["maxLength"] = spec["max_length"]
        if spec.get("pattern"):
            schema["pattern"] = spec["pattern"]
    elif kind == "url":
        schema = {"type": "string", "format": "uri", "maxLength": spec.get("max_length", 500)}
    elif kind in ("decimal", "money"):
        # Money travels as a decimal string so no float ever carries a yuan amount.
        schema = {"type": "string", "format": "decimal",
                  "pattern": r"^-?\d+(\.\d{1,2})?$" if kind == "money" else r"^-?\d+(\.\d+)?$"}
        if "min" in spec:
            schema["x-minimum"] = spec["min"]
        if "max" in spec:
            schema["x-maximum"] = spec["max"]
    elif kind == "integer":
        schema = {"type": "integer", **{k: spec[s] for k, s in (("minimum", "min"), ("maximum", "max")) if s in spec}}
    elif kind == "boolean":
        schema = {"type": "boolean"}
    elif kind == "datetime":
        schema = {"type": "string", "format": "date-time"}
    elif kind == "choice":
        schema = {"type": "string", "enum": CHOICES[spec["choices"]]}
    elif kind == "choice_list":
        schema = {"type": "array", "items": {"type": "string", "enum": CHOICES[spec["choices"]]}}
    elif kind == "object":
        schema = object_schema(spec["fields"])
    else:
        raise ValueError(f"unknown field type {kind!r}")
    if spec.get("label"):
        schema["description"] = spec["label"]
    return schema


def object_schema(fields: list[dict]) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {f["name"]: field_schema(f) for f in fields},
        "required": [f["name"] for f in fields if f.get("required")],
    }


def schema_name(form_name: str) -> str:
    """risk_list_entry -> RiskListEntryForm"""
    return "".join(part.title() for part in form_name.split("_")) + "Form"


def form_schemas() -> dict[str, dict]:
    return {schema_name(name): {**object_schema(form["fields"]), "title": form["title"]}
            for name, form in FORMS.items()}
