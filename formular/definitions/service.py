"""The public face of the definition language; other packages import from here only."""

from __future__ import annotations

from .compiler import (
    MAX_ANSWER_BYTES,
    CompiledDefinition,
    Validation,
    answers_too_large,
    check,
    compile_cached,
    compile_definition,
    compile_stored,
    digest,
)
from .evaluation import Evaluation, is_empty
from .loader import design_files, parse_json, read_file
from .model import FieldError, ItemSpec, PageSpec, Row, SectionSpec
from .problems import InvalidDefinition, Problem
from .scores import RaisedFlag, ScoreResult, Scoring, Subject

__all__ = [
    "MAX_ANSWER_BYTES", "CompiledDefinition", "Evaluation", "FieldError", "InvalidDefinition",
    "ItemSpec", "PageSpec", "Problem", "RaisedFlag", "Row", "ScoreResult", "Scoring",
    "SectionSpec", "Subject", "Validation", "answers_too_large", "check", "compile_cached",
    "compile_definition", "compile_stored", "design_files", "digest", "is_empty", "parse_json",
    "read_file",
]
