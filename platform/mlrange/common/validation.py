"""The validation DSL for YAML content files, defined once: curriculum files and lab manifests.

A file's shape is a tree of specs (`Obj`, `ListOf`, `Text`, `Slug`, `Choice`, ...). `spec.check(
value, at, checker)` reports every problem (not the first one) to a `Checker` as a
`ContentError(file, field, message)`, the field being a path such as `levels[2].can_do`. Rules
that span several fields stay small functions that run after the specs and report to the same
checker. `read_yaml` parses a file with YAML syntax errors (line, column) and duplicate keys
reported the same way.

Each kind of file keeps its own phrasing: a checker carries a `wording` (message templates by
key, `WORDING` by default) that a caller may override in part, e.g. the lab manifests' terser
"unknown key" where the curriculum's messages list the allowed keys.

Pure Python and PyYAML: no Django, no app, so that the sandbox-free tools (bench/) can use it.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class ContentError:
    """One problem in one content file. `field` is a path such as `levels[2].can_do`."""

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        if self.field:
            return f"{self.file}: {self.field}: {self.message}"
        return f"{self.file}: {self.message}"


# --- Reading YAML ----------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys instead of keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def file_label(root: Path, path: Path) -> str:
    """How errors name a file: relative to the content folder's parent (`curriculum/x.yaml`)."""
    try:
        return str(Path(root.name) / path.relative_to(root))
    except ValueError:
        return str(path)


def read_yaml(path: Path, label: str) -> tuple[Any, list[ContentError]]:
    """Parse one YAML file. Syntax errors and duplicate keys are reported with their line."""
    if not path.is_file():
        return None, [ContentError(label, "", "file is missing")]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [ContentError(label, "", f"cannot be read: {exc}")]
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader), []  # noqa: S506 -- a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "syntax error"
        return None, [ContentError(label, "", f"invalid YAML{where}: {problem}")]
    except yaml.YAMLError as exc:
        return None, [ContentError(label, "", f"invalid YAML: {exc}")]


# --- The checker and its wording ---------------------------------------------------------

# Message templates by key; `str.format` fields are filled by the spec that reports.
WORDING: dict[str, str] = {
    "not_text": "expected {noun}",
    "empty": "must not be empty",
    "too_long": "is {length} characters long; the limit is {limit}",
    "multi_line": "expected a single line",
    "not_integer": "expected {noun}",
    "below_minimum": "must be at least {minimum}",
    "above_maximum": "must be at most {maximum}",
    "not_positive_integer": "expected a positive integer",
    "not_positive_number": "expected a positive number",
    "not_boolean": "expected {noun}",
    "not_choice": "expected {noun}",
    "unknown_choice": "unknown {what} {value!r} (expected one of: {options})",
    "not_list": "expected a list of {plural}",
    "exact_items": "expected exactly {exact} items, found {count}",
    "too_few": "expected at least {minimum} items, found {count}",
    "duplicate": "duplicate {what} {key!r} (first used at {first})",
    "not_mapping": "expected {noun}",
    "unknown_key": "unknown key (allowed: {allowed})",
    "missing": "missing required field",
}


class Checker:
    """Collects the errors of one file, phrased by `wording` (overrides of `WORDING`)."""

    def __init__(self, label: str, wording: Mapping[str, str] | None = None) -> None:
        self.label = label
        self.errors: list[ContentError] = []
        self.wording = {**WORDING, **(wording or {})}

    def error(self, path: str, message: str) -> None:
        self.errors.append(ContentError(self.label, path, message))

    def say(self, path: str, message_key: str, /, **params: Any) -> None:
        """Report the message `message_key` of this checker's wording, filled with `params`."""
        self.error(path, self.wording[message_key].format(**params))

    def has_errors_under(self, path: str) -> bool:
        """Whether an error was reported at `path` or inside it."""
        return any(e.field == path or e.field.startswith((f"{path}.", f"{path}[")) for e in self.errors)


# --- Specs: the schema language ----------------------------------------------------------


class Spec:
    """A type of value in a content file. `noun`/`plural` are used in error messages."""

    noun = "a value"
    plural = "values"

    def check(self, value: Any, at: str, checker: Checker) -> None:
        raise NotImplementedError


class Text(Spec):
    """A non-empty string (Markdown where the field says so); `one_line` forbids line breaks."""

    noun, plural = "a string", "strings"

    def __init__(self, *, max_length: int | None = None, one_line: bool = False) -> None:
        self.max_length = max_length
        self.one_line = one_line

    def check(self, value: Any, at: str, checker: Checker) -> None:
        if not isinstance(value, str):
            checker.say(at, "not_text", noun=self.noun)
        elif not value.strip():
            checker.say(at, "empty")
        elif self.max_length is not None and len(value) > self.max_length:
            checker.say(at, "too_long", length=len(value), limit=self.max_length)
        elif self.one_line and "\n" in value.strip():
            checker.say(at, "multi_line")


class Pattern(Spec):
    """A string matching `pattern`; `message` (with `{value!r}`) says what was expected."""

    noun, plural = "a string", "strings"

    def __init__(self, pattern: re.Pattern[str], message: str) -> None:
        self.pattern = pattern
        self.message = message

    def check(self, value: Any, at: str, checker: Checker) -> None:
        if not isinstance(value, str) or not self.pattern.match(value):
            checker.error(at, self.message.format(value=value))


class Slug(Text):
    def __init__(self) -> None:
        super().__init__(max_length=50)

    def check(self, value: Any, at: str, checker: Checker) -> None:
        before = len(checker.errors)
        super().check(value, at, checker)
        if len(checker.errors) == before and not SLUG_PATTERN.match(value):
            checker.error(at, f"{value!r} is not a slug (lower-case letters, digits and hyphens)")


class Url(Text):
    def check(self, value: Any, at: str, checker: Checker) -> None:
        before = len(checker.errors)
        super().check(value, at, checker)
        if len(checker.errors) == before and not re.match(r"^https://[^\s/]+\.[^\s]+$", value):
            checker.error(at, f"{value!r} is not an https:// URL")


class Integer(Spec):
    noun, plural = "an integer", "integers"

    def __init__(self, *, minimum: int | None = None, maximum: int | None = None) -> None:
        self.minimum, self.maximum = minimum, maximum

    def check(self, value: Any, at: str, checker: Checker) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            checker.say(at, "not_integer", noun=self.noun)
        elif self.minimum is not None and value < self.minimum:
            checker.say(at, "below_minimum", minimum=self.minimum)
        elif self.maximum is not None and value > self.maximum:
            checker.say(at, "above_maximum", maximum=self.maximum)


class Positive(Spec):
    """A number above zero (an integer where `integer`), at most `maximum`."""

    noun, plural = "a positive number", "positive numbers"

    def __init__(self, *, integer: bool = False, maximum: float | None = None) -> None:
        self.integer, self.maximum = integer, maximum

    def check(self, value: Any, at: str, checker: Checker) -> None:
        kinds = int if self.integer else int | float
        if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
            checker.say(at, "not_positive_integer" if self.integer else "not_positive_number")
        elif self.maximum is not None and value > self.maximum:
            checker.say(at, "above_maximum", maximum=self.maximum)


class Boolean(Spec):
    noun, plural = "true or false", "booleans"

    def check(self, value: Any, at: str, checker: Checker) -> None:
        if not isinstance(value, bool):
            checker.say(at, "not_boolean", noun=self.noun)


class Choice(Spec):
    """One of a fixed set of strings; `what` names the set in messages ("level", "sub-skill").

    `unknown` (a template with `{value!r}`) replaces the checker's wording for a value not in
    the set, e.g. "{value!r} is not an OWASP ML Top 10 id (ML01..ML10)".
    """

    noun, plural = "a string", "strings"

    def __init__(self, options: Iterable[str], *, what: str = "value", unknown: str | None = None) -> None:
        self.options = tuple(options)
        self.what = what
        self.unknown = unknown

    def check(self, value: Any, at: str, checker: Checker) -> None:
        if isinstance(value, str) and value in self.options:
            return
        if self.unknown is not None:
            checker.error(at, self.unknown.format(value=value))
        elif not isinstance(value, str):
            checker.say(
                at, "not_choice", noun=self.noun, what=self.what, value=value, options=", ".join(self.options)
            )
        else:
            checker.say(at, "unknown_choice", what=self.what, value=value, options=", ".join(self.options))


class ListOf(Spec):
    """A list of `item`. `unique_by`: a key (for mappings) or "" (the value) that must not repeat;
    `what` names it in the duplicate message (default "slug" for `slug`, else "value")."""

    noun, plural = "a list", "lists"

    def __init__(
        self,
        item: Spec,
        *,
        min_items: int = 0,
        exact: int | None = None,
        unique_by: str | None = None,
        what: str | None = None,
    ) -> None:
        self.item = item
        self.min_items = min_items
        self.exact = exact
        self.unique_by = unique_by
        self.what = what or ("slug" if unique_by == "slug" else "value")

    def check(self, value: Any, at: str, checker: Checker) -> None:
        if not isinstance(value, list):
            checker.say(at, "not_list", plural=self.item.plural)
            return
        if self.exact is not None and len(value) != self.exact:
            checker.say(at, "exact_items", exact=self.exact, count=len(value))
        elif len(value) < self.min_items:
            checker.say(at, "too_few", minimum=self.min_items, count=len(value))
        seen: dict[Any, str] = {}
        for index, element in enumerate(value):
            item_at = f"{at}[{index}]"
            self.item.check(element, item_at, checker)
            if self.unique_by is None:
                continue
            if self.unique_by:
                key = element.get(self.unique_by) if isinstance(element, dict) else None
                key_at = f"{item_at}.{self.unique_by}"
            else:
                key, key_at = element, item_at
            if not isinstance(key, str | int):
                continue
            if key in seen:
                checker.say(key_at, "duplicate", what=self.what, key=key, first=seen[key])
            else:
                seen[key] = key_at


@dataclass(frozen=True)
class F:
    """A field of an `Obj`."""

    spec: Spec
    required: bool = True


class Obj(Spec):
    """A mapping with known keys: unknown keys and missing required keys are errors."""

    noun, plural = "a mapping", "mappings"

    def __init__(self, fields: dict[str, F | Spec]) -> None:
        self.fields = {name: spec if isinstance(spec, F) else F(spec) for name, spec in fields.items()}

    def check(self, value: Any, at: str, checker: Checker) -> None:
        if not isinstance(value, dict):
            checker.say(at, "not_mapping", noun=self.noun)
            return
        prefix = f"{at}." if at else ""
        for key in value:
            if key not in self.fields:
                checker.say(f"{prefix}{key}", "unknown_key", allowed=", ".join(self.fields))
        for name, spec in self.fields.items():
            if name not in value:
                if spec.required:
                    checker.say(f"{prefix}{name}", "missing")
                continue
            if value[name] is None and not spec.required:
                continue
            spec.spec.check(value[name], f"{prefix}{name}", checker)


def strings(*, min_items: int = 1) -> ListOf:
    return ListOf(Text(), min_items=min_items)
