"""Render and validate a realistic 60-item one-page form: Formulär against the bare libraries.

Four measures, each the median of several repeats of N calls (interleaved, so machine noise
hits ours and the baseline alike), as in ``/work/shared/brief/performance.md`` §2 and §3:

* ``render``: the whole Formulär page render of ``Filler.show_page`` + ``Filler._render`` (no
  database): cached compile lookup, cached form class, instantiation with prefill data,
  visibility, ``build_page``, ``client_plan`` and ``render_template("form/page.html", ...)``
  inside a Flask test request context.
* ``baseline_render``: bare Jinja2 (autoescape, template compiled once, base layout through
  ``{% extends %}``), one small macro per widget, from a plain list of dicts.
* ``validate``: ``CompiledDefinition.validate(answers, audience="citizen")`` (visibility,
  jsonschema with formats, rule requirements, scoring).
* ``baseline_validate``: ``Draft202012Validator(schema, format_checker=...)`` built once,
  ``list(iter_errors(answers))`` over the same answer schema.

Run: ``.venv/bin/python bench/render_validate.py [--quick]``. A human table goes to stderr and
one JSON line to stdout. Nothing is asserted about timings.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import jinja2  # noqa: E402
from jsonschema import Draft202012Validator  # noqa: E402

from formular.definitions.service import (  # noqa: E402
    CompiledDefinition,
    check,
    compile_cached,
    compile_definition,
)

Json = dict[str, Any]
AUDIENCE = "citizen"
PAGE = 0

# ---------------------------------------------------------------------------------------------
# The definition: 60 items on one page, the mix of performance.md §3
# ---------------------------------------------------------------------------------------------

AGREE_5 = [
    {"value": 1, "label": "Stämmer inte alls"},
    {"value": 2, "label": "Stämmer dåligt"},
    {"value": 3, "label": "Varken eller"},
    {"value": 4, "label": "Stämmer ganska bra"},
    {"value": 5, "label": "Stämmer helt"},
]


def _options(*pairs: tuple[str, str]) -> list[Json]:
    return [{"value": value, "label": label} for value, label in pairs]


# (section id, section title, items); each item is (layout item, answer property schema).
Item = tuple[Json, Json]


def _text(name: str, label: str, **extra: Any) -> Item:
    prop: Json = {"type": "string", "maxLength": extra.pop("max_length", 100)}
    if "pattern" in extra:
        prop["pattern"] = extra.pop("pattern")
    return {"type": "text", "name": name, "label": label, **extra}, prop


def _date(name: str, label: str, **limits: str) -> Item:
    prop: Json = {"type": "string", "format": "date"}
    prop.update({("formatMinimum" if k == "minimum" else "formatMaximum"): v
                 for k, v in limits.items()})
    return {"type": "date", "name": name, "label": label}, prop


def _email(name: str, label: str) -> Item:
    return ({"type": "email", "name": name, "label": label},
            {"type": "string", "format": "email", "maxLength": 200})


def _phone(name: str, label: str) -> Item:
    return {"type": "phone", "name": name, "label": label}, {"type": "string", "format": "phone"}


def _integer(name: str, label: str, low: int, high: int, unit: str | None = None) -> Item:
    item: Json = {"type": "integer", "name": name, "label": label}
    if unit:
        item["unit"] = unit
    return item, {"type": "integer", "minimum": low, "maximum": high}


def _decimal(name: str, label: str, low: float, high: float, unit: str) -> Item:
    return ({"type": "decimal", "name": name, "label": label, "unit": unit},
            {"type": "number", "minimum": low, "maximum": high})


def _choice(name: str, label: str, options: list[Json] | str, select: bool = False,
            help_text: str | None = None) -> Item:
    item: Json = {"type": "choice", "name": name, "label": label, "options": options}
    if select:
        item["widget"] = "select"
    if help_text:
        item["help"] = help_text
    values = [o["value"] for o in (AGREE_5 if isinstance(options, str) else options)]
    return item, {"enum": values}


def _yes_no(name: str, label: str, const: bool = False) -> Item:
    prop: Json = {"type": "boolean"}
    if const:
        prop["const"] = True
    return {"type": "yes-no", "name": name, "label": label}, prop


def _textarea(name: str, label: str) -> Item:
    return ({"type": "textarea", "name": name, "label": label, "rows": 4},
            {"type": "string", "maxLength": 2000})


SMOKING = _options(("never", "Nej, har aldrig rökt"), ("former", "Nej, har slutat"),
                   ("sometimes", "Ja, ibland"), ("daily", "Ja, dagligen"))
SYMPTOMS = _options(("pain", "Smärta"), ("fatigue", "Trötthet"), ("sleep", "Sömnproblem"),
                    ("worry", "Oro"), ("dizziness", "Yrsel"), ("breath", "Andfåddhet"),
                    ("none", "Inga av dessa"))
SYMPTOMS[-1]["exclusive"] = True

SECTIONS: list[tuple[str, str, list[Item]]] = [
    ("identity", "Personuppgifter", [
        _text("first_name", "Förnamn", autocomplete="given-name"),
        _text("last_name", "Efternamn", autocomplete="family-name"),
        _date("birth_date", "Födelsedatum", minimum="today-P120Y", maximum="today"),
        _choice("sex", "Kön", _options(("female", "Kvinna"), ("male", "Man"),
                                       ("other", "Annat"))),
        _text("address", "Gatuadress", autocomplete="street-address"),
        _text("postal_code", "Postnummer", max_length=6, pattern="^[1-9][0-9]{2} ?[0-9]{2}$"),
        _text("city", "Ort"),
        _email("email", "E-postadress"),
        _phone("phone", "Mobiltelefon"),
        _choice("county", "Län", _options(
            ("AB", "Stockholms län"), ("C", "Uppsala län"), ("D", "Södermanlands län"),
            ("E", "Östergötlands län"), ("F", "Jönköpings län"), ("M", "Skåne län"),
            ("O", "Västra Götalands län"), ("T", "Örebro län"), ("U", "Västmanlands län"),
            ("W", "Dalarnas län"), ("X", "Gävleborgs län"), ("AC", "Västerbottens län"),
            ("BD", "Norrbottens län")), select=True),
        _choice("language", "Föredraget språk", _options(
            ("sv", "Svenska"), ("en", "Engelska"), ("fi", "Finska"), ("ar", "Arabiska"),
            ("so", "Somaliska"), ("fa", "Persiska")), select=True),
    ]),
    ("background", "Bakgrund", [
        _choice("marital_status", "Civilstånd", _options(
            ("single", "Ensamstående"), ("partner", "Sambo"), ("married", "Gift"),
            ("widowed", "Änka/änkling")), select=True),
        _choice("education", "Högsta utbildning", _options(
            ("primary", "Grundskola"), ("secondary", "Gymnasium"),
            ("vocational", "Yrkesutbildning"), ("university", "Högskola/universitet")),
            select=True),
        _text("occupation", "Yrke"),
        _text("employer", "Arbetsgivare"),
        _integer("children", "Antal barn", 0, 20),
        _integer("sick_days", "Sjukdagar senaste året", 0, 366, "dagar"),
    ]),
    ("contact", "Närstående och vård", [
        _text("next_of_kin", "Närstående, namn"),
        _text("next_of_kin_relation", "Relation till dig"),
        _email("next_of_kin_email", "Närståendes e-post"),
        _phone("next_of_kin_phone", "Närståendes telefon"),
        _text("gp_name", "Din läkare"),
        _email("gp_email", "Mottagningens e-post"),
        _date("last_checkup", "Senaste hälsokontroll", maximum="today"),
    ]),
    ("habits", "Levnadsvanor", [
        _choice("smoking", "Röker du?", SMOKING),
        _integer("cigarettes", "Hur många cigaretter om dagen?", 1, 100, "st"),
        _choice("snus", "Snusar du?", SMOKING),
        _integer("alcohol_units", "Standardglas alkohol per vecka", 0, 100, "glas"),
        _integer("exercise_minutes", "Minuter motion per vecka", 0, 3000, "min"),
        _integer("sleep_hours", "Timmar sömn per natt", 0, 24, "h"),
    ]),
    ("measurements", "Mätvärden", [
        _integer("height", "Längd", 100, 250, "cm"),
        _decimal("weight", "Vikt", 20, 300, "kg"),
        _decimal("waist", "Midjemått", 40, 200, "cm"),
        _integer("systolic", "Blodtryck, övre", 60, 260, "mmHg"),
        _integer("diastolic", "Blodtryck, undre", 30, 160, "mmHg"),
        _integer("pulse", "Puls i vila", 30, 220, "slag/min"),
        _decimal("temperature", "Kroppstemperatur", 34, 43, "°C"),
        _decimal("glucose", "Blodsocker", 1, 40, "mmol/l"),
        _decimal("cholesterol", "Kolesterol", 1, 20, "mmol/l"),
        _decimal("hemoglobin", "Hemoglobin", 50, 250, "g/l"),
        _decimal("creatinine", "Kreatinin", 10, 2000, "µmol/l"),
        _decimal("hba1c", "HbA1c", 10, 200, "mmol/mol"),
        _integer("pain_now", "Smärta just nu (0–10)", 0, 10),
        _date("sample_date", "Provtagningsdatum", maximum="today"),
    ]),
    ("health", "Hälsa", [
        _choice("general_health", "Hur bedömer du ditt allmänna hälsotillstånd?", _options(
            ("excellent", "Utmärkt"), ("good", "Mycket gott"), ("fair", "Gott"),
            ("poor", "Någorlunda"), ("bad", "Dåligt"))),
        (
            {"type": "multi-choice", "name": "symptoms", "label": "Vilka besvär har du haft?",
             "help": "Välj alla som stämmer.", "options": SYMPTOMS},
            {"type": "array", "uniqueItems": True, "maxItems": 6,
             "items": {"enum": [o["value"] for o in SYMPTOMS]}},
        ),
        _date("symptom_start", "När började besvären?", maximum="today"),
        _yes_no("has_medication", "Tar du några läkemedel?"),
        _textarea("medication_list", "Vilka läkemedel och doser?"),
        _yes_no("has_allergy", "Har du någon allergi?"),
        _textarea("allergy_details", "Beskriv din allergi"),
        _yes_no("pregnant", "Är du gravid?"),
    ]),
    ("wellbeing", "Välbefinnande", [
        _choice("stress_1", "Jag har känt mig stressad.", "agree-5",
                help_text="Tänk på den senaste månaden."),
        _choice("stress_2", "Jag har kunnat koppla av.", "agree-5"),
        _choice("stress_3", "Jag har haft för mycket att göra.", "agree-5"),
        _choice("mood_1", "Jag har känt mig nedstämd.", "agree-5"),
        _choice("mood_2", "Jag har haft svårt att sova.", "agree-5"),
        _choice("mood_3", "Jag har känt mig orolig.", "agree-5"),
    ]),
    ("finally", "Till sist", [
        _text("other", "Något mer vi bör veta?", max_length=500),
        _yes_no("consent", "Jag har läst informationen och vill skicka in svaren.", const=True),
    ]),
]

REQUIRED = ["first_name", "last_name", "birth_date", "sex", "email", "smoking", "snus",
            "height", "weight", "general_health", "stress_1", "stress_2", "stress_3",
            "has_medication", "has_allergy", "consent"]

RULES: list[Json] = [
    {"id": "smoker-amount", "when": {"in": [{"var": "smoking"}, ["sometimes", "daily"]]},
     "show": ["cigarettes"], "require": ["cigarettes"]},
    {"id": "medications", "when": {"==": [{"var": "has_medication"}, True]},
     "show": ["medication_list"], "require": ["medication_list"]},
    {"id": "allergy", "when": {"==": [{"var": "has_allergy"}, True]},
     "show": ["allergy_details"]},
    {"id": "pregnancy", "when": {"==": [{"var": "sex"}, "female"]}, "show": ["pregnant"]},
    {"id": "symptom-start", "when": {"!": {"in": ["none", {"var": "symptoms"}]}},
     "show": ["symptom_start"]},
]

SCORES: list[Json] = [
    {"id": "stress", "label": "Stresspoäng", "method": "sum",
     "items": ["stress_1", {"name": "stress_2", "reverse": True}, "stress_3"],
     "missing": {"policy": "prorate", "max_missing": 1}, "citizen_visible": True,
     "band_sets": [{"bands": [
         {"id": "low", "min": 3, "max": 7, "label": "Låg stress", "severity": "none"},
         {"id": "medium", "min": 8, "max": 11, "label": "Måttlig stress",
          "severity": "moderate"},
         {"id": "high", "min": 12, "max": 15, "label": "Hög stress", "severity": "high"}]}]},
    {"id": "mood", "label": "Stämningsläge", "method": "mean",
     "items": ["mood_1", "mood_2", "mood_3"], "decimals": 1},
]

FLAGS: list[Json] = [
    {"id": "high-stress", "when": {">=": [{"var": "score.stress"}, 12]}, "label": "Hög stress",
     "severity": "moderate"},
]

#: A complete, valid answer to every one of the 60 items (every show rule holds).
ANSWERS: Json = {
    "first_name": "Tolvan", "last_name": "Tolvansson", "birth_date": "1970-05-05",
    "sex": "female", "address": "Storgatan 1", "postal_code": "123 45", "city": "Ankeborg",
    "email": "tolvan@exempel.se", "phone": "070-123 45 67", "county": "AB", "language": "sv",
    "marital_status": "married", "education": "university", "occupation": "Sjuksköterska",
    "employer": "Region Demo", "children": 2, "sick_days": 4,
    "next_of_kin": "Elvan Tolvansson", "next_of_kin_relation": "Make",
    "next_of_kin_email": "elvan@exempel.se", "next_of_kin_phone": "+46 70 765 43 21",
    "gp_name": "Dr Exempel", "gp_email": "mottagning@exempel.se",
    "last_checkup": "2024-03-01",
    "smoking": "daily", "cigarettes": 10, "snus": "never", "alcohol_units": 5,
    "exercise_minutes": 150, "sleep_hours": 7,
    "height": 172, "weight": 68.5, "waist": 81.0, "systolic": 128, "diastolic": 82,
    "pulse": 64, "temperature": 36.8, "glucose": 5.4, "cholesterol": 4.9, "hemoglobin": 135.0,
    "creatinine": 72.0, "hba1c": 38.0, "pain_now": 2, "sample_date": "2024-02-20",
    "general_health": "good", "symptoms": ["pain", "sleep"], "symptom_start": "2024-01-15",
    "has_medication": True, "medication_list": "Levaxin 50 µg dagligen", "has_allergy": True,
    "allergy_details": "Pollen & <nötter>", "pregnant": False,
    "stress_1": 3, "stress_2": 4, "stress_3": 2, "mood_1": 2, "mood_2": 3, "mood_3": 2,
    "other": "Inget mer.", "consent": True,
}


def build_definition() -> Json:
    properties: Json = {}
    sections = []
    for section_id, title, items in SECTIONS:
        for item, prop in items:
            properties[item["name"]] = prop
        sections.append({"id": section_id, "title": title, "items": [i for i, _ in items]})
    return {
        "formular": 1,
        "id": "bench-health-60",
        "version": 1,
        "kind": "questionnaire",
        "title": "Hälsodeklaration (benchmark)",
        "language": "sv",
        "languages": ["sv"],
        "option_sets": {"agree-5": AGREE_5},
        "schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": False,
            "required": REQUIRED,
            "properties": properties,
        },
        "layout": {"pages": [{"id": "all", "title": "Hälsodeklaration",
                              "intro": "Frågor med * måste besvaras.", "sections": sections}]},
        "rules": RULES,
        "scores": SCORES,
        "flags": FLAGS,
        "policy": {"drafts": True},
    }


# ---------------------------------------------------------------------------------------------
# The baseline renderer: bare Jinja2, one macro per widget, from a list of dicts
# ---------------------------------------------------------------------------------------------

BASE_TEMPLATE = """<!doctype html>
<html lang="sv">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{% block title %}{% endblock %} – Formulär</title>
  <link rel="stylesheet" href="/static/css/formular.css">
</head>
<body>
  <a class="skip-link" href="#main">Hoppa till innehållet</a>
  <header class="site-header"><a class="brand" href="/">Formulär</a></header>
  <main id="main" tabindex="-1">{% block main %}{% endblock %}</main>
  <footer class="site-footer"><p>Formulär – öppna formulär för vården.</p></footer>
</body>
</html>
"""

WIDGET_MACROS = """
{% macro hint(f) %}{% if f.help %}<div class="hint" id="{{ f.id }}-help">{{ f.help }}</div>{% endif %}{% endmacro %}
{% macro err(f, error) %}{% if error %}<p class="field-error" id="{{ f.id }}-error"><span class="visually-hidden">Fel:</span> {{ error }}</p>{% endif %}{% endmacro %}
{% macro mark(f) %}{% if f.required %}<span class="required" aria-hidden="true">*</span>{% else %}<span class="optional">(frivillig)</span>{% endif %}{% endmacro %}
{% macro aria(f, error) %}{% if f.help or error %} aria-describedby="{% if f.help %}{{ f.id }}-help{% endif %}{% if error %} {{ f.id }}-error{% endif %}"{% endif %}{% if error %} aria-invalid="true"{% endif %}{% if f.required %} aria-required="true"{% endif %}{% endmacro %}

{% macro input(f, value, error) %}
<div class="field field-{{ f.type }}{% if error %} has-error{% endif %}">
  <label for="{{ f.id }}">{{ f.label }} {{ mark(f) }}</label>
  {{ hint(f) }}{{ err(f, error) }}
  <input id="{{ f.id }}" name="{{ f.name }}" type="{{ f.input_type }}" value="{{ value if value is not none else '' }}"
    {%- if f.inputmode %} inputmode="{{ f.inputmode }}"{% endif %}
    {%- if f.autocomplete %} autocomplete="{{ f.autocomplete }}"{% endif %}
    {%- if f.maxlength %} maxlength="{{ f.maxlength }}"{% endif %}{{ aria(f, error) }}>
  {% if f.unit %}<span class="unit">{{ f.unit }}</span>{% endif %}
</div>
{% endmacro %}

{% macro textarea(f, value, error) %}
<div class="field field-textarea{% if error %} has-error{% endif %}">
  <label for="{{ f.id }}">{{ f.label }} {{ mark(f) }}</label>
  {{ hint(f) }}{{ err(f, error) }}
  <textarea id="{{ f.id }}" name="{{ f.name }}" rows="{{ f.rows }}"{{ aria(f, error) }}>{{ value if value is not none else '' }}</textarea>
</div>
{% endmacro %}

{% macro radio(f, value, error) %}
<div class="field field-choice{% if error %} has-error{% endif %}">
  <fieldset id="{{ f.id }}"{{ aria(f, error) }}>
    <legend>{{ f.label }} {{ mark(f) }}</legend>
    {{ hint(f) }}{{ err(f, error) }}
    <div class="options">{% for v, label in f.options %}
      <div class="option"><input type="radio" id="{{ f.id }}-{{ loop.index0 }}" name="{{ f.name }}" value="{{ v }}"{% if v == value %} checked{% endif %}>
      <label for="{{ f.id }}-{{ loop.index0 }}">{{ label }}</label></div>{% endfor %}
    </div>
  </fieldset>
</div>
{% endmacro %}

{% macro select(f, value, error) %}
<div class="field field-choice{% if error %} has-error{% endif %}">
  <label for="{{ f.id }}">{{ f.label }} {{ mark(f) }}</label>
  {{ hint(f) }}{{ err(f, error) }}
  <select id="{{ f.id }}" name="{{ f.name }}"{{ aria(f, error) }}>
    <option value="">Välj…</option>
    {% for v, label in f.options %}<option value="{{ v }}"{% if v == value %} selected{% endif %}>{{ label }}</option>{% endfor %}
  </select>
</div>
{% endmacro %}

{% macro checkbox(f, value, error) %}
<div class="field field-yes-no{% if error %} has-error{% endif %}">
  {{ hint(f) }}{{ err(f, error) }}
  <input type="checkbox" id="{{ f.id }}" name="{{ f.name }}" value="true"{% if value %} checked{% endif %}{{ aria(f, error) }}>
  <label for="{{ f.id }}">{{ f.label }} {{ mark(f) }}</label>
</div>
{% endmacro %}

{% macro checkboxes(f, value, error) %}
<div class="field field-multi-choice{% if error %} has-error{% endif %}">
  <fieldset id="{{ f.id }}"{{ aria(f, error) }}>
    <legend>{{ f.label }} {{ mark(f) }}</legend>
    {{ hint(f) }}{{ err(f, error) }}
    <div class="options">{% for v, label in f.options %}
      <div class="option"><input type="checkbox" id="{{ f.id }}-{{ loop.index0 }}" name="{{ f.name }}" value="{{ v }}"{% if value and v in value %} checked{% endif %}>
      <label for="{{ f.id }}-{{ loop.index0 }}">{{ label }}</label></div>{% endfor %}
    </div>
  </fieldset>
</div>
{% endmacro %}
"""  # noqa: E501

PAGE_TEMPLATE = """{% extends "base.html" %}
{% import "widgets.html" as m %}
{% set w = {"input": m.input, "textarea": m.textarea, "radio": m.radio, "select": m.select,
            "checkbox": m.checkbox, "checkboxes": m.checkboxes} %}
{% block title %}{{ page_title }}{% endblock %}
{% block main %}
<h1>{{ page_title }}</h1>
{% if summary %}<div class="error-summary" role="alert"><h2>Det finns ett problem</h2><ul>
{% for id, message in summary %}<li><a href="#{{ id }}">{{ message }}</a></li>{% endfor %}</ul></div>{% endif %}
<form method="post" action="{{ action }}" novalidate>
  <input type="hidden" name="csrf_token" value="{{ csrf }}">
  {% for section in sections %}
  <section class="form-section"><h2>{{ section.title }}</h2>
    {% for f in section.fields %}{{ w[f.widget](f, values.get(f.name), errors.get(f.name)) }}{% endfor %}
  </section>
  {% endfor %}
  <div class="actions"><button type="submit" name="_action" value="save">Spara</button>
  <button type="submit" name="_action" value="next" class="primary">Nästa</button></div>
</form>
{% endblock %}
"""  # noqa: E501

_INPUT_TYPES = {"text": "text", "date": "date", "email": "email", "phone": "tel",
                "integer": "text", "decimal": "text"}
_INPUTMODES = {"integer": "numeric", "decimal": "decimal"}


def baseline_fields(definition: Json) -> list[Json]:
    """The page as a plain list of sections of field dicts (what a bare app would keep)."""
    properties = definition["schema"]["properties"]
    required = set(definition["schema"]["required"])
    sections = []
    for section in definition["layout"]["pages"][0]["sections"]:
        fields = []
        for item in section["items"]:
            kind = item["type"]
            options = item.get("options", [])
            if isinstance(options, str):
                options = definition["option_sets"][options]
            field: Json = {
                "name": item["name"], "id": f"f-{item['name']}", "label": item["label"],
                "help": item.get("help"), "required": item["name"] in required, "type": kind,
                "options": [(str(o["value"]), o["label"]) for o in options],
            }
            if kind in _INPUT_TYPES:
                field.update(widget="input", input_type=_INPUT_TYPES[kind],
                             inputmode=_INPUTMODES.get(kind), unit=item.get("unit"),
                             autocomplete=item.get("autocomplete"),
                             maxlength=properties[item["name"]].get("maxLength"))
            elif kind == "textarea":
                field.update(widget="textarea", rows=item.get("rows", 5))
            elif kind == "choice":
                field["widget"] = "select" if item.get("widget") == "select" else "radio"
            elif kind == "yes-no":
                field["widget"] = "checkbox"
            elif kind == "multi-choice":
                field["widget"] = "checkboxes"
            else:
                raise ValueError(f"no baseline widget for {kind}")
            fields.append(field)
        sections.append({"title": section.get("title"), "fields": fields})
    return sections


def baseline_values(answers: Json) -> Json:
    """Answers as the text a form shows (lists stay lists of text)."""
    values: Json = {}
    for name, value in answers.items():
        if isinstance(value, list):
            values[name] = [str(v) for v in value]
        elif isinstance(value, bool):
            values[name] = value
        else:
            values[name] = str(value)
    return values


def make_baseline_renderer(definition: Json, answers: Json) -> Callable[[], str]:
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"base.html": BASE_TEMPLATE, "widgets.html": WIDGET_MACROS,
                                  "page.html": PAGE_TEMPLATE}),
        autoescape=True,
    )
    template = env.get_template("page.html")
    sections = baseline_fields(definition)
    values = baseline_values(answers)
    title = definition["layout"]["pages"][0]["title"]

    def render() -> str:
        return template.render(page_title=title, sections=sections, values=values, errors={},
                               summary=[], action="/preview/d/bench-token/0", csrf="x" * 40)

    return render


# ---------------------------------------------------------------------------------------------
# Our renderer: what Filler.show_page + Filler._render do, without the database
# ---------------------------------------------------------------------------------------------


@dataclass
class _Draft:
    token: str = "bench-token"
    revision: int = 3


class _FillerStandIn:
    """What ``form/page.html`` reads of a Filler: ``draft.revision``; urls as Filler builds."""

    def __init__(self, endpoints: dict[str, str]) -> None:
        self.draft = _Draft()
        self.endpoints = endpoints

    def url(self, name: str, **values: Any) -> str:
        from flask import url_for

        return url_for(self.endpoints[name], token=self.draft.token, **values)


def make_our_renderer(definition: Json, answers: Json) -> tuple[Callable[[], str], Any]:
    """The render function and the Flask test request context it must run inside."""
    from flask import g, render_template
    from markupsafe import Markup

    from formular import create_app
    from formular.rendering.forms import form_class, page_items, prefill
    from formular.rendering.page import build_page, client_plan
    from formular.web.filling import PageForm
    from formular.web.messages import describe
    from formular.web.preview import ENDPOINTS

    app = create_app({"TESTING": True, "DEMO": True, "SECRET_KEY": "bench",
                      "DATABASE_URL": "sqlite://", "WTF_CSRF_ENABLED": False})
    context = app.test_request_context("/preview/d/bench-token/0")
    filler = _FillerStandIn(ENDPOINTS)
    key = "bench-health-60@1"

    def visible_pages(compiled: CompiledDefinition, answers: Json) -> list[int]:
        evaluation = compiled.evaluate(answers, AUDIENCE)
        return [page.index for page in compiled.pages
                if page.index not in evaluation.hidden_pages
                and page_items(compiled, page.index, AUDIENCE)]

    def render() -> str:
        # Filler.compiled (a cache hit) and Filler.show_page
        compiled = compile_cached(definition, key=key)
        g.offered_languages = compiled.document.get("languages", [compiled.language])
        if PAGE not in visible_pages(compiled, answers):
            raise RuntimeError("the page is hidden")
        cls = form_class(compiled, PAGE, AUDIENCE, PageForm)
        form = cls(formdata=None, data=prefill(compiled, PAGE, AUDIENCE, answers))
        # Filler._render
        evaluation = compiled.evaluate(answers, AUDIENCE)
        visible = visible_pages(compiled, answers)
        view = build_page(compiled, PAGE, AUDIENCE, form, evaluation, [], describe, visible)
        earlier = [p for p in visible if p < PAGE]
        # The page has answers, so its questions are drawn (a blank page's come from a cache).
        sections_html = Markup(render_template("form/_sections.html", view=view))  # noqa: S704
        return render_template(
            "form/page.html", filler=filler, compiled=compiled, view=view, form=form,
            sections_html=sections_html,
            notice=None, has_previous=bool(earlier), plan=client_plan(compiled, AUDIENCE),
            answers=evaluation.answers, action_url=filler.url("page", page=PAGE),
            review_url=filler.url("review"),
        )

    return render, context


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------


def time_block(fn: Callable[[], Any], calls: int) -> float:
    """µs per call over one block of ``calls`` calls."""
    gc.collect()
    start = time.perf_counter_ns()
    for _ in range(calls):
        fn()
    return (time.perf_counter_ns() - start) / calls / 1000


def measure(pairs: dict[str, tuple[Callable[[], Any], int]], repeats: int
            ) -> dict[str, list[float]]:
    """µs per call of each function, one sample per repeat; each repeat runs every block once,
    and the order rotates between repeats so no measure always runs first."""
    names = list(pairs)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            fn, calls = pairs[name]
            samples[name].append(time_block(fn, calls))
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short run (smoke test)")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 9)
    render_calls, validate_calls = (3, 10) if args.quick else (40, 150)

    definition = build_definition()
    problems = check(definition)
    if problems:
        for problem in problems:
            print(f"definition problem: {problem}", file=sys.stderr)
        return 1
    compiled = compile_definition(definition)
    items = sum(len(section.items) for section in compiled.pages[0].sections)

    # Correctness before timing: the answers are valid and every item is rendered.
    validation = compiled.validate(ANSWERS, audience=AUDIENCE)
    if not validation.ok or len(validation.answers) != len(ANSWERS):
        print(f"answers not valid: {validation.errors}", file=sys.stderr)
        return 1
    baseline_validator = Draft202012Validator(
        definition["schema"], format_checker=Draft202012Validator.FORMAT_CHECKER)
    if list(baseline_validator.iter_errors(ANSWERS)):
        print("answers not valid for the bare validator", file=sys.stderr)
        return 1

    ours, context = make_our_renderer(definition, ANSWERS)
    app = context.app
    baseline = make_baseline_renderer(definition, ANSWERS)
    with context:
        our_html, base_html = ours(), baseline()
        for name in ANSWERS:
            for html, who in ((our_html, "ours"), (base_html, "baseline")):
                if f'name="{name}"' not in html:
                    print(f"{who}: no input named {name}", file=sys.stderr)
                    return 1
        if "field-error" in our_html:
            print("ours: the page shows errors", file=sys.stderr)
            return 1

        def ours_fresh_request() -> str:
            with app.test_request_context("/preview/d/bench-token/0"):
                return ours()

        samples = measure({"render": (ours, render_calls),
                           "baseline_render": (baseline, render_calls),
                           "render_fresh_request": (ours_fresh_request, render_calls)}, repeats)

    def our_validate() -> Any:
        return compiled.validate(ANSWERS, audience=AUDIENCE)

    def baseline_validate() -> Any:
        return list(baseline_validator.iter_errors(ANSWERS))

    samples.update(measure({"validate": (our_validate, validate_calls),
                            "baseline_validate": (baseline_validate, validate_calls)}, repeats))
    median = {name: statistics.median(values) for name, values in samples.items()}
    fastest = {name: min(values) for name, values in samples.items()}

    result = {
        "items": items,
        "render_us": round(median["render"], 1),
        "baseline_render_us": round(median["baseline_render"], 1),
        "render_time_ratio": round(median["render"] / median["baseline_render"], 2),
        "validate_us": round(median["validate"], 1),
        "baseline_validate_us": round(median["baseline_validate"], 1),
        "validate_time_ratio": round(median["validate"] / median["baseline_validate"], 2),
        "render_fresh_request_us": round(median["render_fresh_request"], 1),
        "render_html_bytes": len(our_html.encode()),
        "baseline_html_bytes": len(base_html.encode()),
        "repeats": repeats,
        "render_calls": render_calls,
        "validate_calls": validate_calls,
    }
    rows = [
        ("render (Formulär page)", "render", "baseline_render"),
        ("  same, new request each", "render_fresh_request", "baseline_render"),
        ("validate (60 answers)", "validate", "baseline_validate"),
    ]
    print(f"{items} items on one page; median (min) of {repeats} repeats "
          f"({render_calls} renders / {validate_calls} validations each)", file=sys.stderr)
    print(f"{'measure':<26}{'ours µs':>20}{'baseline µs':>20}{'ours/base':>11}",
          file=sys.stderr)
    for label, our, base in rows:
        print(f"{label:<26}{median[our]:>10,.1f} ({fastest[our]:>7,.1f})"
              f"{median[base]:>10,.1f} ({fastest[base]:>7,.1f})"
              f"{median[our] / median[base]:>11.2f}", file=sys.stderr)
    print(f"HTML: ours {result['render_html_bytes']:,} bytes, "
          f"baseline {result['baseline_html_bytes']:,} bytes", file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
