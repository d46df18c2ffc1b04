"""Conditions and expressions in Formulär's rule language, a JSON Logic subset (server side).

Rules (``rules[].when``), calculated items (``expression``), flags and band sets (``when``) are
*data*, never code: a JSON tree of operations from :data:`ALLOWED_OPERATORS`.  This module

* checks a tree at save time (:func:`check_logic`): allowlisted operators, arity, literal
  ``var`` paths that name known fields, JSON literals, a depth cap and a size cap, reporting
  *every* problem with its JSON pointer;
* evaluates a tree against an answer document (:func:`evaluate`, :func:`holds`) with the
  maintained library ``maykin-json-logic-py``, so we do not own an interpreter;
* lists the fields an expression reads (:func:`referenced_vars`) for scoping and cycle checks.

The server is authoritative.  The browser's twin, ``formular/static/js/rules.js``, reproduces
what *this* module computes, Python quirks included, and ``tests/rules/parity_cases.json`` is
the contract both run against.  Semantics worth knowing (all proven by that table):

* **Every argument is evaluated** (the library is eager): ``if``/``and``/``or`` do not
  short-circuit, so a guard such as ``{"if": [{"==": [h, 0]}, null, {"/": [w, h]}]}`` still
  divides by zero when ``h`` is 0 and the whole expression fails (``LogicError``; ``holds``
  is then ``False``).  ``and``/``or`` *return* the deciding operand, not a boolean.
* **A missing operand yields null** for ``< <= > >= + - * / min max``: any ``null`` argument
  makes the result ``null`` (so "not answered yet" never counts as 0).
* **``==`` compares as text when either side is a string** (``str(a) == str(b)``), so
  ``1 == "1"`` holds, ``null == "None"`` holds, and a *float* never equals its integer text
  (``6.0 == "6"`` is false).  With a boolean on either side it compares truthiness.
* **``<`` and friends convert to float when either side is a number**; a non-numeric string
  against a number is an error, a list or object against a number is simply false.  Two
  strings compare by code point.  ``<=`` is "less, or ``==``" (``1 <= "1.0"`` is false).
* **``+``/``-`` parse numeric strings** (``"3"`` → 3, ``"2.5"`` → 2.5; text without a ``.`` must
  be an integer, so ``"1e3"`` is an error); ``*`` and ``/`` convert with ``float()`` and always
  produce floats; division by zero is an error.
* **``in``** tests membership in a list (Python ``==``), a substring in a string (the needle
  must be a string, else error), a key in an object; anything else is ``false``.
* **``cat``** joins Python ``str()`` of each value: ``None``, ``True``, ``6.0``, ``['a', 'b']``.
* **Truthiness** is Python's: ``0``, ``0.0``, ``""``, ``null``, ``false``, ``[]`` and ``{}``
  are false.
* **``missing``** treats ``null`` (and absent) as missing, but not ``""``.

Normalisations done here around the library (documented where they happen):

1. Before evaluating, the expression is re-checked (allowlist and caps): anything outside the
   subset raises :class:`LogicError` instead of reaching the library's extra operators.
2. Numbers in the expression and the data are normalised to what JSON (and a browser) can
   tell apart: a whole float such as ``6.0`` becomes the int ``6``, and ints beyond ±2**53
   become floats.  Without it ``{"==": [{"var": "n"}, "6"]}`` would depend on whether a
   client happened to send ``6`` or ``6.0``, which no browser can reproduce.
3. The result gets the same treatment (``{"*": [2, 3]}`` returns ``6``), and a non-finite
   result (``inf``/``nan``) raises :class:`LogicError`: it is not JSON and cannot be stored.
4. Every library exception becomes :class:`LogicError` whose message never repeats answer
   values (they are health data and messages end up in logs).

Known limits of browser parity (outside the table's contract, unreachable from real forms):
integer text beyond ±2**53 used in arithmetic (Python computes exactly, a browser cannot),
decimal digits added to Unicode after version 14, dictionaries with integer-like keys printed
by ``cat``, lone UTF-16 surrogates, and answer documents nested hundreds of levels deep.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final

from json_logic import jsonLogic

from formular.definitions.problems import Problem, pointer_join

#: The operators of the subset.  Deliberately absent: ``log`` (writes answers to logs),
#: ``today``/``date``/``datetime``/``rdelta``/``duration`` (server clock and date parsing the
#: browser would have to mimic), ``map``/``reduce``/``merge``/``count``/``%``/``?:``/``method``.
ALLOWED_OPERATORS: Final[frozenset[str]] = frozenset(
    {
        "var", "missing", "missing_some",
        "==", "!=", "===", "!==", "<", "<=", ">", ">=",
        "!", "!!", "and", "or", "if", "in",
        "+", "-", "*", "/", "min", "max", "cat",
    }
)  # fmt: skip

#: Deepest nesting of operations and lists (the root is level 1).  The library recurses once
#: per level with no limit of its own, so this cap is what keeps it far from RecursionError.
MAX_DEPTH: Final = 20
#: Most nodes (operations, lists and scalars, counted alike) in one expression.
MAX_NODES: Final = 500

#: Integers up to this magnitude are exact in both Python and JavaScript.
_SAFE_INTEGER: Final = 2**53

#: (fewest, most) arguments, where a wrong count would raise or silently ignore arguments in
#: the library (``{"-": [a, b, c]}`` ignores ``c``; ``{">": [a, b, c]}`` raises) or is
#: certainly an authoring mistake (``{"and": []}``, ``{"/": [a]}``).  ``None``: no upper bound.
_ARITY: Final[dict[str, tuple[int, int | None]]] = {
    "var": (1, 2), "missing": (1, None), "missing_some": (2, 2),
    "==": (2, 2), "!=": (2, 2), "===": (2, 2), "!==": (2, 2),
    "<": (2, 3), "<=": (2, 3), ">": (2, 2), ">=": (2, 2),
    "!": (1, 1), "!!": (1, 1), "and": (1, None), "or": (1, None), "if": (2, None),
    "in": (2, 2), "+": (1, None), "-": (1, 2), "*": (1, None), "/": (2, 2),
    "min": (1, None), "max": (1, None), "cat": (1, None),
}  # fmt: skip


class LogicError(Exception):
    """An expression could not be evaluated (outside the subset, or failed on this data).

    ``problems`` holds the checker's findings when the expression itself is not in the subset,
    and is empty when the expression is fine but the data made it fail (``1 / 0``, ``"x" < 1``).
    """

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.problems: list[Problem] = problems or []


# --- Checking -----------------------------------------------------------------------------


def check_logic(expression: Any, pointer: str, known_var: Callable[[str], bool]) -> list[Problem]:
    """Every problem of *expression*, each at the JSON pointer of the offending node.

    *pointer* is where the expression sits in its document (``/rules/0/when``); child pointers
    append operator names and argument indexes (``/rules/0/when/and/1/==/0``).  *known_var*
    says whether a ``var``/``missing`` path names a field in scope; pass ``lambda _: True`` to
    skip that check.

    Hostile input cannot make this raise or run long: the walk is iterative (no recursion to
    exhaust), it does not descend below :data:`MAX_DEPTH` (one ``logic-depth`` problem per
    branch that goes deeper, not one per level) and it stops at :data:`MAX_NODES` nodes with
    one ``logic-size`` problem, so problems are complete for the first ``MAX_NODES`` nodes.
    """
    problems: list[Problem] = []
    # (node, its pointer, its level); popped in document order.
    stack: list[tuple[Any, str, int]] = [(expression, pointer, 1)]
    nodes = 0
    while stack:
        node, where, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            problems.append(
                Problem(
                    pointer,
                    "logic-size",
                    f"the expression has more than {MAX_NODES} nodes",
                    {"limit": MAX_NODES},
                )
            )
            break
        if isinstance(node, (list, dict)) and depth > MAX_DEPTH:
            problems.append(
                Problem(
                    where,
                    "logic-depth",
                    f"the expression is nested more than {MAX_DEPTH} levels deep",
                    {"limit": MAX_DEPTH},
                )
            )
            continue
        if isinstance(node, list):
            children = [
                (item, where + pointer_join(i), depth + 1)
                for i, item in enumerate(node[: MAX_NODES + 1])
            ]
        elif isinstance(node, dict):
            children = [
                (arg, at, depth + 1)
                for arg, at in _check_operation(node, where, known_var, problems)
            ]
        else:
            if not _is_json_scalar(node):
                problems.append(
                    Problem(
                        where,
                        "logic-literal",
                        f"{type(node).__name__} is not a JSON value",
                        {"type": type(node).__name__},
                    )
                )
            continue
        stack.extend(reversed(children))
    return problems


def _check_operation(
    node: dict[Any, Any], where: str, known_var: Callable[[str], bool], problems: list[Problem]
) -> list[tuple[Any, str]]:
    """Check one operation object; return its arguments (with pointers) to walk next."""
    if not all(isinstance(key, str) for key in node):
        problems.append(
            Problem(where, "logic-literal", "object keys must be strings", {"type": "dict"})
        )
        return []
    if len(node) != 1:
        problems.append(
            Problem(
                where,
                "logic-operator",
                "an operation must be an object with exactly one key, its operator",
                {"keys": sorted(node)[:10]},
            )
        )
        return []
    ((operator, raw),) = node.items()
    # Like the library: a non-list value is the single argument ({"var": "x"}).
    if isinstance(raw, list):
        args = [
            (arg, where + pointer_join(operator, i)) for i, arg in enumerate(raw[: MAX_NODES + 1])
        ]
        count = len(raw)
    else:
        args = [(raw, where + pointer_join(operator))]
        count = 1
    if operator not in ALLOWED_OPERATORS:
        problems.append(
            Problem(
                where,
                "logic-operator",
                f"operator {operator!r} is not allowed in rules",
                {"operator": operator, "allowed": sorted(ALLOWED_OPERATORS)},
            )
        )
        return args  # its arguments may hold further problems worth reporting
    fewest, most = _ARITY[operator]
    if count < fewest or (most is not None and count > most):
        expected = (
            str(fewest)
            if fewest == most
            else (f"at least {fewest}" if most is None else f"{fewest} to {most}")
        )
        problems.append(
            Problem(
                where,
                "logic-arity",
                f"{operator!r} takes {expected} argument(s), not {count}",
                {"operator": operator, "expected": expected, "count": count},
            )
        )
        return args
    if operator == "var":
        _check_path(args[0][0], where, known_var, problems)
    elif operator == "missing":
        first = args[0][0]
        if isinstance(first, list):
            if count > 1:
                problems.append(
                    Problem(
                        where,
                        "logic-arity",
                        "'missing' takes either names or one list of names",
                        {"operator": operator, "expected": "1", "count": count},
                    )
                )
            else:
                for i, name in enumerate(first[: MAX_NODES + 1]):
                    _check_path(name, args[0][1] + pointer_join(i), known_var, problems)
        else:
            for name, at in args:
                _check_path(name, at, known_var, problems)
    elif operator == "missing_some":
        (least, least_at), (names, names_at) = args
        if not _is_whole_number(least):
            problems.append(
                Problem(
                    least_at,
                    "logic-literal",
                    "'missing_some' needs a whole number as its first argument",
                    {"operator": operator},
                )
            )
        if not isinstance(names, list):
            problems.append(
                Problem(
                    names_at,
                    "logic-var",
                    "'missing_some' needs a literal list of field names as its second argument",
                    {"operator": operator},
                )
            )
        else:
            for i, name in enumerate(names[: MAX_NODES + 1]):
                _check_path(name, names_at + pointer_join(i), known_var, problems)
    return args


def _check_path(
    path: Any, at: str, known_var: Callable[[str], bool], problems: list[Problem]
) -> None:
    """A field path must be literal, so that scope and cycles can be checked before any answer
    exists, and must name a known field.  *at* is the ``var`` object for ``var`` (the path is
    part of it), the name itself for ``missing``/``missing_some`` (one of several)."""
    if not _is_whole_number(path) and not isinstance(path, str):
        problems.append(
            Problem(
                at,
                "logic-var",
                'a field reference must be a literal text path such as "score.phq9"',
                {"type": type(path).__name__},
            )
        )
        return
    name = _path_text(path)
    if not known_var(name):
        problems.append(
            Problem(at, "unknown-field", f"{name!r} is not a field in scope", {"name": name})
        )


def _is_whole_number(value: Any) -> bool:
    """An int (not a bool), or a float JSON cannot tell from one (``2.0``), within ±2**53."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) <= _SAFE_INTEGER
    return isinstance(value, float) and value.is_integer() and abs(value) <= _SAFE_INTEGER


def _path_text(path: str | int | float) -> str:
    """A path as the library reads it (``str()``), after whole floats became ints."""
    return path if isinstance(path, str) else str(int(path))


def _is_json_scalar(value: Any) -> bool:
    """Whether *value* is a JSON scalar that both Python and a browser represent exactly."""
    if value is None or isinstance(value, (str, bool)):
        return True
    if isinstance(value, int):
        try:
            return math.isfinite(float(value))
        except OverflowError:
            return False
    return isinstance(value, float) and math.isfinite(value)


def referenced_vars(expression: Any) -> set[str]:
    """Every literal field path *expression* reads: ``var`` paths and ``missing`` names.

    ``""`` stands for the whole answer document (``{"var": ""}``).  Non-literal paths are
    skipped (:func:`check_logic` reports them).  Iterative, so any input is safe.
    """
    found: set[str] = set()
    stack: list[Any] = [expression]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict) or len(node) != 1:
            continue
        ((operator, raw),) = node.items()
        args = raw if isinstance(raw, list) else [raw]
        stack.extend(args)
        names: list[Any] = []
        if operator == "var" and args:
            names = [args[0]]
        elif operator == "missing" and args:
            names = args[0] if isinstance(args[0], list) else args
        elif operator == "missing_some" and len(args) == 2 and isinstance(args[1], list):
            names = args[1]
        found.update(_path_text(n) for n in names if isinstance(n, str) or _is_whole_number(n))
    return found


# --- Evaluating ---------------------------------------------------------------------------


def _any_field(_path: str) -> bool:
    return True


class Prepared:
    """An expression checked and normalised once (at compile time), with the top-level answer
    names it reads, so evaluating it per request neither re-checks it nor copies answers it
    never looks at."""

    __slots__ = ("expression", "heads", "problems")

    def __init__(self, expression: Any) -> None:
        self.problems = check_logic(expression, "", _any_field)
        self.expression = None if self.problems else _as_json(expression)
        paths = referenced_vars(expression) if not self.problems else set()
        #: None means the expression reads the whole document (``{"var": ""}``).
        self.heads: frozenset[str] | None = (
            None if "" in paths else frozenset(str(p).split(".")[0] for p in paths))


def prepare(expression: Any) -> Prepared:
    """Check and normalise an expression once; evaluate the result many times."""
    return expression if isinstance(expression, Prepared) else Prepared(expression)


def evaluate(expression: Any, data: dict[str, Any]) -> Any:
    """Evaluate *expression* (raw or :class:`Prepared`) against *data* (the answers, with
    dotted paths into nested values).

    Raises only :class:`LogicError`: for an expression outside the subset (re-checked here for
    raw expressions, so that a definition stored before a checker change, or a code path that
    forgot to check, never reaches the library's other operators or its unbounded recursion),
    and for any failure on this data.  Whole floats are normalised to ints on the way in and
    out (see the module docstring for why).
    """
    prepared = prepare(expression)
    if prepared.problems:
        raise LogicError(
            "not in the rule language: " + "; ".join(str(p) for p in prepared.problems[:3]),
            prepared.problems,
        )
    if prepared.heads is None:
        scope = data
    else:
        scope = {head: data[head] for head in prepared.heads if head in data}
    try:
        return _as_json(jsonLogic(prepared.expression, _as_json(scope)))
    except LogicError:
        raise
    except Exception as error:  # the library raises TypeError, ValueError, ZeroDivisionError...
        # ``from None`` and only the type: library messages quote answer values ("could not
        # convert string to float: '...'"), and answers are health data that must not reach logs.
        raise LogicError(f"evaluation failed ({type(error).__name__})") from None


def truthy(value: Any) -> bool:
    """JSON Logic truthiness as the server (Python) has it: 0, "", null, false, [], {} are false.

    The same rule the library applies inside ``if``, ``and``, ``or`` and ``!``.
    """
    return bool(value)


def holds(condition: Any, data: dict[str, Any]) -> bool:
    """Whether *condition* is true of *data*; ``False`` when it cannot be evaluated.

    A failing condition must not hold: a show rule that fails hides its fields (and their
    values are dropped), a require rule that fails does not demand an answer the citizen may
    not be able to give, and a flag that fails is not raised on garbage.  Failing safe this way
    also keeps a bad definition from turning into a server error in front of a patient.  The
    definition checker is where authors learn about such rules, not the citizen's request.
    """
    try:
        return truthy(evaluate(condition, data))
    except LogicError:
        return False


def _as_json(value: Any) -> Any:
    """Normalise numbers to what JSON and a browser can tell apart (see module docstring).

    Whole floats within ±2**53 become ints, larger ints become floats; ``nan``/``inf`` raise
    :class:`LogicError`.  Lists and objects are copied; other values are returned as they are.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise LogicError("not a finite number")
        if value.is_integer() and abs(value) <= _SAFE_INTEGER:
            return int(value)
        return value
    if isinstance(value, int):
        return value if abs(value) <= _SAFE_INTEGER else float(value)
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_json(item) for key, item in value.items()}
    return value
