"""DynamoDB's expression language, parsed once per distinct string and
compiled to Python closures, for the in-memory table.

Covers what layers_shared sends (and DynamoDB's grammar around it):
- conditions and filters: = <> < <= > >=, BETWEEN, IN, AND / OR / NOT,
  parentheses, attribute_exists, attribute_not_exists, attribute_type,
  begins_with, contains, size(); document paths `a.b` and `a[0]`;
- updates: SET with =, +, -, if_not_exists, list_append; REMOVE; ADD on
  numbers; DELETE (only sets, which the codec cannot send, so always refused);
- key conditions: `#pk = :pk` and an optional sort-key condition
  (= < <= > >= BETWEEN begins_with).

`#name` and `:value` placeholders are resolved at each call, so one parsed
expression serves every names/values mapping (the publisher's outcome writes
use `#f0 = :v0` with a different `#f0` each time). Checks that DynamoDB makes
on the request as a whole (placeholders defined and used, reserved words,
overlapping paths, key attributes) raise InvalidExpression; what depends on
the item raises InvalidData (tests/fakes/dynamo_values.py).
"""
from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from tests.fakes.dynamo_values import (
    MISSING, InvalidData, InvalidExpression, arithmetic, equal, kind, normalize, ordered,
)

Getter = Callable[[dict, dict, dict], Any]  # (item, names, values) -> value or MISSING
Step = Any  # ("n", literal name) | ("p", "#placeholder") | int (list index)

_TOKEN = re.compile(r"\s*(?:(#[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)|([A-Za-z_][A-Za-z0-9_]*)|(\d+)"
                    r"|(<>|<=|>=|[=<>(),.\[\]+\-]))")
_KEYWORDS = {"AND", "OR", "NOT", "IN", "BETWEEN"}
_CLAUSES = {"SET", "REMOVE", "ADD", "DELETE"}
_BOOLEAN_FUNCTIONS = {"attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2, "begins_with": 2,
                      "contains": 2}
_COMPARATORS = {"=", "<>", "<", "<=", ">", ">="}


@lru_cache(maxsize=1)
def reserved_words() -> frozenset[str]:
    """DynamoDB's reserved words, from the copy moto ships (no moto import:
    the file is read where the package is installed). Empty without moto."""
    spec = importlib.util.find_spec("moto")
    if spec is None or spec.origin is None:
        return frozenset()
    listing = Path(spec.origin).parent / "dynamodb" / "parsing" / "reserved_keywords.txt"
    return frozenset(listing.read_text().split()) if listing.exists() else frozenset()


# -- tokens and syntax tree -------------------------------------------------------------


def _tokens(text: str) -> list[tuple[str, str]]:
    out, at, end = [], 0, len(text.rstrip())
    while at < end:
        m = _TOKEN.match(text, at)
        if m is None or m.end() == at:
            raise InvalidExpression(f"Invalid expression: Syntax error; token: \"{text[at:].strip()[:10]}\"")
        at = m.end()
        if m.group(1):
            out.append(("name", m.group(1)))
        elif m.group(2):
            out.append(("value", m.group(2)))
        elif m.group(3):
            out.append(("ident", m.group(3)))
        elif m.group(4):
            out.append(("int", m.group(4)))
        else:
            out.append(("op", m.group(5)))
    return out


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokens(text)
        self.at = 0

    # helpers
    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        i = self.at + offset
        return self.tokens[i] if i < len(self.tokens) else None

    def word(self, offset: int = 0) -> str | None:
        token = self.peek(offset)
        return token[1].upper() if token and token[0] == "ident" else None

    def is_op(self, op: str) -> bool:
        token = self.peek()
        return token is not None and token == ("op", op)

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise InvalidExpression(f"Invalid expression: Syntax error; token: <EOF>, near: \"{self.text[-20:]}\"")
        self.at += 1
        return token

    def expect(self, op: str) -> None:
        token = self.take()
        if token != ("op", op):
            raise InvalidExpression(f"Invalid expression: Syntax error; token: \"{token[1]}\", expected \"{op}\"")

    def done(self) -> None:
        if self.peek() is not None:
            raise InvalidExpression(f"Invalid expression: Syntax error; token: \"{self.peek()[1]}\"")

    # conditions
    def condition(self) -> tuple:
        node = self.conjunction()
        while self.word() == "OR":
            self.take()
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self) -> tuple:
        node = self.negation()
        while self.word() == "AND":
            self.take()
            node = ("and", node, self.negation())
        return node

    def negation(self) -> tuple:
        if self.word() == "NOT":
            self.take()
            return ("not", self.negation())
        return self.atom()

    def atom(self) -> tuple:
        if self.is_op("("):
            self.take()
            node = self.condition()
            self.expect(")")
            return node
        token = self.peek()
        if token and token[0] == "ident" and self.peek(1) == ("op", "(") and token[1] != "size":
            name = self.take()[1]
            if name not in _BOOLEAN_FUNCTIONS:
                raise InvalidExpression(f"Invalid function name; function: {name}")
            args = self.arguments()
            if len(args) != _BOOLEAN_FUNCTIONS[name]:
                raise InvalidExpression(f"Incorrect number of operands for operator or function; "
                                        f"operator or function: {name}, number of operands: {len(args)}")
            if args[0][0] != "path":
                raise InvalidExpression(f"Operator or function requires a document path; operator or function: {name}")
            return ("fn", name, tuple(args))
        left = self.operand()
        word = self.word()
        if word == "BETWEEN":
            self.take()
            low = self.operand()
            if self.word() != "AND":
                raise InvalidExpression("Invalid expression: Syntax error; BETWEEN needs AND")
            self.take()
            return ("between", left, low, self.operand())
        if word == "IN":
            self.take()
            self.expect("(")
            options = [self.operand()]
            while self.is_op(","):
                self.take()
                options.append(self.operand())
            self.expect(")")
            return ("in", left, tuple(options))
        token = self.take()
        if token[0] != "op" or token[1] not in _COMPARATORS:
            raise InvalidExpression(f"Invalid expression: Syntax error; token: \"{token[1]}\"")
        return ("cmp", token[1], left, self.operand())

    def arguments(self) -> list[tuple]:
        self.expect("(")
        args = [self.operand()]
        while self.is_op(","):
            self.take()
            args.append(self.operand())
        self.expect(")")
        return args

    def operand(self) -> tuple:
        token = self.peek()
        if token and token[0] == "value":
            self.take()
            return ("value", token[1])
        if token and token == ("ident", "size") and self.peek(1) == ("op", "("):
            self.take()
            args = self.arguments()
            if len(args) != 1 or args[0][0] != "path":
                raise InvalidExpression("Invalid operand for function size")
            return ("size", args[0])
        return self.path()

    def path(self) -> tuple:
        steps: list[Step] = [self.name()]
        while True:
            if self.is_op("."):
                self.take()
                steps.append(self.name())
            elif self.is_op("["):
                self.take()
                token = self.take()
                if token[0] != "int":
                    raise InvalidExpression("Invalid expression: a list index must be a number")
                steps.append(int(token[1]))
                self.expect("]")
            else:
                return ("path", tuple(steps))

    def name(self) -> Step:
        token = self.take()
        if token[0] == "name":
            return ("p", token[1])
        if token[0] == "ident":
            if token[1].upper() in _KEYWORDS or token[1].upper() in _CLAUSES:
                raise InvalidExpression(f"Invalid expression: Syntax error; token: \"{token[1]}\"")
            if token[1].upper() in reserved_words():
                raise InvalidExpression(f"Invalid expression: Attribute name is a reserved keyword; "
                                        f"reserved keyword: {token[1]}")
            return ("n", token[1])
        raise InvalidExpression(f"Invalid expression: Syntax error; token: \"{token[1]}\"")

    # updates
    def update(self) -> dict[str, list]:
        clauses: dict[str, list] = {}
        while self.peek() is not None:
            word = self.word()
            if word not in _CLAUSES:
                raise InvalidExpression(f"Invalid UpdateExpression: Syntax error; token: \"{self.peek()[1]}\"")
            if word in clauses:
                raise InvalidExpression(f"Invalid UpdateExpression: The \"{word}\" section can only be used once "
                                        f"in an update expression;")
            self.take()
            actions = clauses[word] = [self.action(word)]
            while self.is_op(","):
                self.take()
                actions.append(self.action(word))
        if not clauses:
            raise InvalidExpression("Invalid UpdateExpression: The expression can not be empty;")
        return clauses

    def action(self, clause: str) -> Any:
        target = self.path()
        if clause == "REMOVE":
            return target
        if clause == "SET":
            self.expect("=")
            value = self.set_operand()
            if self.is_op("+") or self.is_op("-"):
                sign = self.take()[1]
                value = ("plus" if sign == "+" else "minus", value, self.set_operand())
            return (target, value)
        value = self.operand()
        if value[0] != "value":
            raise InvalidExpression(f"Invalid UpdateExpression: {clause} needs a value placeholder")
        return (target, value)

    def set_operand(self) -> tuple:
        token = self.peek()
        if token and token[0] == "ident" and self.peek(1) == ("op", "("):
            name = self.take()[1]
            self.expect("(")
            if name == "if_not_exists":
                first = self.path()
                self.expect(",")
                node: tuple = ("if_not_exists", first, self.set_operand())
            elif name == "list_append":
                first = self.set_operand()
                self.expect(",")
                node = ("list_append", first, self.set_operand())
            else:
                raise InvalidExpression(f"Invalid UpdateExpression: Invalid function name; function: {name}")
            self.expect(")")
            return node
        if token and token[0] == "value":
            self.take()
            return ("value", token[1])
        return self.path()


def _placeholders(node: Any, names: set[str], values: set[str]) -> None:
    if isinstance(node, tuple):
        if node and node[0] == "p" and len(node) == 2 and isinstance(node[1], str):
            names.add(node[1])
            return
        if node and node[0] == "value" and len(node) == 2 and isinstance(node[1], str):
            values.add(node[1])
            return
        for child in node:
            _placeholders(child, names, values)
    elif isinstance(node, (list, dict)):
        for child in (node.values() if isinstance(node, dict) else node):
            _placeholders(child, names, values)


# -- compiled forms ---------------------------------------------------------------------


def resolve(steps: tuple, names: dict[str, str]) -> tuple:
    """A document path with its #placeholders replaced: a tuple of str and int."""
    return tuple(s if type(s) is int else (s[1] if s[0] == "n" else names[s[1]]) for s in steps)


def lookup(item: Any, path: tuple) -> Any:
    current = item
    for step in path:
        if type(step) is int:
            if type(current) is not list or step >= len(current):
                return MISSING
            current = current[step]
        else:
            if type(current) is not dict:
                return MISSING
            current = current.get(step, MISSING)
            if current is MISSING:
                return MISSING
    return current


def _path_getter(steps: tuple) -> Getter:
    if len(steps) == 1 and type(steps[0]) is not int:
        form, text = steps[0]
        if form == "n":
            return lambda item, names, values: item.get(text, MISSING)
        return lambda item, names, values: item.get(names[text], MISSING)
    return lambda item, names, values: lookup(item, resolve(steps, names))


def _operand(node: tuple) -> Getter:
    form = node[0]
    if form == "path":
        return _path_getter(node[1])
    if form == "value":
        placeholder = node[1]
        return lambda item, names, values: values[placeholder]
    if form == "size":
        inner = _path_getter(node[1][1])

        def size(item: dict, names: dict, values: dict) -> Any:
            found = inner(item, names, values)
            if found is MISSING:
                return MISSING
            if kind(found) in ("S", "B", "L", "M", "SS", "NS"):
                return len(found)
            raise InvalidData(f"Invalid operand type for size function; operand type: {kind(found)}")
        return size
    raise InvalidExpression(f"Invalid operand: {form}")


def _less(a: Any, b: Any) -> bool:
    return ordered(a, b) and a < b


def _less_equal(a: Any, b: Any) -> bool:
    return ordered(a, b) and a <= b


def _greater(a: Any, b: Any) -> bool:
    return ordered(a, b) and a > b


def _greater_equal(a: Any, b: Any) -> bool:
    return ordered(a, b) and a >= b


def _equal(a: Any, b: Any) -> bool:
    if type(a) is str and type(b) is str:
        return a == b
    return equal(a, b)


def _not_equal(a: Any, b: Any) -> bool:
    # A missing attribute is "not equal" to anything (as DynamoDB and moto answer).
    return not _equal(a, b)


_COMPARE = {"=": _equal, "<>": _not_equal, "<": _less, "<=": _less_equal, ">": _greater, ">=": _greater_equal}


def _begins_with(a: Any, b: Any) -> bool:
    if type(a) is str and type(b) is str:
        return a.startswith(b)
    if isinstance(a, bytes) and isinstance(b, (bytes, bytearray)):
        return a.startswith(b)
    return False


def _contains(a: Any, b: Any) -> bool:
    if a is MISSING or b is MISSING:
        return False
    if type(a) is str:
        return type(b) is str and b in a
    if isinstance(a, bytes):
        return isinstance(b, (bytes, bytearray)) and b in a
    if type(a) is list:
        return any(equal(x, b) for x in a)
    return False


def _compile(node: tuple) -> Getter:
    form = node[0]
    if form == "and":
        left, right = _compile(node[1]), _compile(node[2])
        return lambda item, names, values: left(item, names, values) and right(item, names, values)
    if form == "or":
        left, right = _compile(node[1]), _compile(node[2])
        return lambda item, names, values: left(item, names, values) or right(item, names, values)
    if form == "not":
        inner = _compile(node[1])
        return lambda item, names, values: not inner(item, names, values)
    if form == "cmp":
        compare, left, right = _COMPARE[node[1]], _operand(node[2]), _operand(node[3])
        return lambda item, names, values: compare(left(item, names, values), right(item, names, values))
    if form == "between":
        subject, low, high = _operand(node[1]), _operand(node[2]), _operand(node[3])

        def between(item: dict, names: dict, values: dict) -> bool:
            x, lo, hi = subject(item, names, values), low(item, names, values), high(item, names, values)
            return _greater_equal(x, lo) and _less_equal(x, hi)
        return between
    if form == "in":
        subject, options = _operand(node[1]), [_operand(o) for o in node[2]]
        return lambda item, names, values: any(_equal(subject(item, names, values), o(item, names, values))
                                               for o in options)
    if form == "fn":
        name, args = node[1], [_operand(a) for a in node[2]]
        first = args[0]
        if name == "attribute_exists":
            return lambda item, names, values: first(item, names, values) is not MISSING
        if name == "attribute_not_exists":
            return lambda item, names, values: first(item, names, values) is MISSING
        second = args[1]
        if name == "attribute_type":
            return lambda item, names, values: (lambda x: x is not MISSING and kind(x) == second(item, names, values))(
                first(item, names, values))
        if name == "begins_with":
            return lambda item, names, values: _begins_with(first(item, names, values), second(item, names, values))
        return lambda item, names, values: _contains(first(item, names, values), second(item, names, values))
    raise InvalidExpression(f"Invalid condition: {form}")


@dataclass(frozen=True)
class Condition:
    """A compiled condition or filter: `test(item, names, values)`."""

    text: str
    tree: tuple
    test: Getter
    names: frozenset[str]
    values: frozenset[str]
    paths: tuple  # the document paths it reads, unresolved


@dataclass(frozen=True)
class Update:
    """A compiled update: `apply(old, names, values)` gives the new item and
    the top-level attribute names it wrote."""

    text: str
    clauses: dict
    names: frozenset[str]
    values: frozenset[str]
    paths: tuple  # every target path, unresolved
    apply: Callable[[dict, dict, dict], tuple[dict, tuple]]


@dataclass(frozen=True)
class KeyCondition:
    """`#pk = :pk [AND sort condition]`, as Query takes it."""

    text: str
    hash_path: tuple
    hash_value: str
    sort_op: str | None  # = < <= > >= between begins_with
    sort_path: tuple | None
    sort_values: tuple  # placeholders
    names: frozenset[str]
    values: frozenset[str]


_conditions: dict[str, Condition] = {}
_updates: dict[str, Update] = {}
_keys: dict[str, KeyCondition] = {}


def _paths_of(node: Any, found: list) -> None:
    if isinstance(node, tuple) and node:
        if node[0] == "path":
            found.append(node[1])
            return
        for child in node[1:]:
            _paths_of(child, found)


def condition(text: str) -> Condition:
    found = _conditions.get(text)
    if found is None:
        parser = _Parser(text)
        if not parser.tokens:
            raise InvalidExpression("Invalid ConditionExpression: The expression can not be empty;")
        tree = parser.condition()
        parser.done()
        names: set[str] = set()
        values: set[str] = set()
        _placeholders(tree, names, values)
        paths: list = []
        _paths_of(tree, paths)
        found = _conditions[text] = Condition(text, tree, _compile(tree), frozenset(names), frozenset(values),
                                              tuple(paths))
    return found


def _set_value(node: tuple) -> Getter:
    form = node[0]
    if form == "path":
        get = _path_getter(node[1])

        def existing(item: dict, names: dict, values: dict) -> Any:
            found = get(item, names, values)
            if found is MISSING:
                raise InvalidData("The provided expression refers to an attribute that does not exist in the item")
            return found
        return existing
    if form == "value":
        placeholder = node[1]
        return lambda item, names, values: values[placeholder]
    if form in ("plus", "minus"):
        left, right, sign = _set_value(node[1]), _set_value(node[2]), 1 if form == "plus" else -1
        return lambda item, names, values: arithmetic(left(item, names, values), right(item, names, values), sign)
    if form == "if_not_exists":
        get, fallback = _path_getter(node[1][1]), _set_value(node[2])

        def if_not_exists(item: dict, names: dict, values: dict) -> Any:
            found = get(item, names, values)
            return fallback(item, names, values) if found is MISSING else found
        return if_not_exists
    if form == "list_append":
        left, right = _set_value(node[1]), _set_value(node[2])

        def list_append(item: dict, names: dict, values: dict) -> Any:
            a, b = left(item, names, values), right(item, names, values)
            if kind(a) != "L" or kind(b) != "L":
                raise InvalidData("An operand in the update expression has an incorrect data type")
            return [*a, *b]
        return list_append
    raise InvalidExpression(f"Invalid UpdateExpression: {form}")


def _invalid_path() -> InvalidData:
    return InvalidData("The document path provided in the update expression is invalid for update")


def _assign(container: Any, path: tuple, value: Any) -> Any:
    """A copy of `container` with `value` at `path` (containers on the way copied, never changed)."""
    step, rest = path[0], path[1:]
    if type(step) is int:
        if type(container) is not list:
            raise _invalid_path()
        out = list(container)
        if not rest:
            if step >= len(out):
                out.append(value)
            else:
                out[step] = value
        elif step < len(out):
            out[step] = _assign(out[step], rest, value)
        else:
            raise _invalid_path()
        return out
    if type(container) is not dict:
        raise _invalid_path()
    out = dict(container)
    if not rest:
        out[step] = value
    elif step in out:
        out[step] = _assign(out[step], rest, value)
    else:
        raise _invalid_path()
    return out


def _remove(container: Any, path: tuple) -> Any:
    step, rest = path[0], path[1:]
    if type(step) is int:
        if type(container) is not list:
            raise _invalid_path()
        if step >= len(container):
            return container
        out = list(container)
        if rest:
            out[step] = _remove(out[step], rest)
        else:
            del out[step]
        return out
    if type(container) is not dict:
        raise _invalid_path()
    if step not in container:
        if rest:
            raise _invalid_path()
        return container
    out = dict(container)
    if rest:
        out[step] = _remove(out[step], rest)
    else:
        del out[step]
    return out


def _overlap(paths: list[tuple]) -> None:
    tops = [p[0] for p in paths]
    if len(set(tops)) == len(tops):
        return
    for i, a in enumerate(paths):
        for b in paths[i + 1:]:
            if a[:len(b)] == b or b[:len(a)] == a:
                raise InvalidExpression(f"Invalid UpdateExpression: Two document paths overlap with each other; must "
                                        f"remove or rewrite one of these paths; path one: {list(a)}, "
                                        f"path two: {list(b)}")


def update(text: str) -> Update:
    found = _updates.get(text)
    if found is None:
        parser = _Parser(text)
        clauses = parser.update()
        names: set[str] = set()
        values: set[str] = set()
        _placeholders(clauses, names, values)
        sets = [(target[1], _set_value(value)) for target, value in clauses.get("SET", [])]
        removes = [target[1] for target in clauses.get("REMOVE", [])]
        adds = [(target[1], _set_value(value)) for target, value in clauses.get("ADD", [])]
        deletes = [target[1] for target, _ in clauses.get("DELETE", [])]
        targets = tuple([p for p, _ in sets] + removes + [p for p, _ in adds] + deletes)
        found = _updates[text] = Update(text, clauses, frozenset(names), frozenset(values), targets,
                                        _applier(sets, removes, adds, deletes, targets))
    return found


def _applier(sets: list, removes: list, adds: list, deletes: list, targets: tuple) -> Callable:
    flat = all(len(p) == 1 and type(p[0]) is not int for p in targets)

    flat_steps = [p[0] for p in targets] if flat else []

    def apply(old: dict, names: dict, values: dict) -> tuple[dict, tuple]:
        if flat:
            paths = [(text if form == "n" else names[text],) for form, text in flat_steps]
        else:
            paths = [resolve(p, names) for p in targets]
        _overlap(paths)
        # Every operand reads the item as it was before this update.
        results = [fn(old, names, values) for _, fn in sets]
        additions = [fn(old, names, values) for _, fn in adds]
        if deletes:
            raise InvalidData("An operand in the update expression has an incorrect data type")
        new = dict(old)
        at = 0
        for value in results:
            path = paths[at]
            at += 1
            value = normalize(value)
            if flat:
                new[path[0]] = value
            else:
                new[path[0]] = value if len(path) == 1 else _assign(new.get(path[0], MISSING), path[1:], value)
        for _ in removes:
            path = paths[at]
            at += 1
            if len(path) == 1:
                new.pop(path[0], None)
            elif path[0] in new:
                new[path[0]] = _remove(new[path[0]], path[1:])
            else:
                raise _invalid_path()
        for value in additions:
            path = paths[at]
            at += 1
            current = lookup(old, path)
            value = normalize(value)
            if kind(value) != "N":
                raise InvalidData("An operand in the update expression has an incorrect data type")
            total = value if current is MISSING else arithmetic(current, value, 1)
            new[path[0]] = total if len(path) == 1 else _assign(new.get(path[0], MISSING), path[1:], total)
        return new, tuple(p[0] for p in paths)
    return apply


def key_condition(text: str) -> KeyCondition:
    """A Query's KeyConditionExpression, checked against DynamoDB's forms."""
    found = _keys.get(text)
    if found is None:
        parser = _Parser(text)
        tree = parser.condition()
        parser.done()
        parts = [tree[1], tree[2]] if tree[0] == "and" else [tree]
        if any(p[0] == "and" for p in parts) or len(parts) > 2:
            raise InvalidExpression("Invalid KeyConditionExpression: The expression has too many conditions")
        hash_part = parts[0]
        if hash_part[0] != "cmp" or hash_part[1] != "=" or hash_part[2][0] != "path" or hash_part[3][0] != "value":
            raise InvalidExpression("Query key condition not supported")
        sort_op, sort_path, sort_values = None, None, ()
        if len(parts) == 2:
            sort = parts[1]
            if sort[0] == "cmp" and sort[1] in ("=", "<", "<=", ">", ">=") and sort[2][0] == "path" \
                    and sort[3][0] == "value":
                sort_op, sort_path, sort_values = sort[1], sort[2][1], (sort[3][1],)
            elif sort[0] == "between" and sort[1][0] == "path" and sort[2][0] == "value" and sort[3][0] == "value":
                sort_op, sort_path, sort_values = "between", sort[1][1], (sort[2][1], sort[3][1])
            elif sort[0] == "fn" and sort[1] == "begins_with" and sort[2][1][0] == "value":
                sort_op, sort_path, sort_values = "begins_with", sort[2][0][1], (sort[2][1][1],)
            else:
                raise InvalidExpression("Invalid operator used in KeyConditionExpression")
        names: set[str] = set()
        values: set[str] = set()
        _placeholders(tree, names, values)
        found = _keys[text] = KeyCondition(text, hash_part[2][1], hash_part[3][1], sort_op, sort_path,
                                           sort_values, frozenset(names), frozenset(values))
    return found


_NONE: frozenset = frozenset()


def check_placeholders(names: dict | None, values: dict | None, used_names: frozenset | set,
                       used_values: frozenset | set) -> None:
    """Every placeholder used is defined, and every one defined is used (DynamoDB refuses both)."""
    given_names = names.keys() if names else _NONE
    given_values = values.keys() if values else _NONE
    if given_names == used_names and given_values == used_values:
        return
    if given_names != used_names:
        missing = set(used_names) - set(given_names)
        if missing:
            raise InvalidExpression(f"An expression attribute name used in the document path is not defined; "
                                    f"attribute name: {sorted(missing)[0]}")
        raise InvalidExpression(f"Value provided in ExpressionAttributeNames unused in expressions: "
                                f"keys: {{{', '.join(sorted(set(given_names) - set(used_names)))}}}")
    if given_values != used_values:
        missing = set(used_values) - set(given_values)
        if missing:
            raise InvalidExpression(f"An expression attribute value used in expression is not defined; "
                                    f"attribute value: {sorted(missing)[0]}")
        raise InvalidExpression(f"Value provided in ExpressionAttributeValues unused in expressions: "
                                f"keys: {{{', '.join(sorted(set(given_values) - set(used_values)))}}}")
