"""The validation DSL shared by the curriculum files and the lab manifests.

(That it imports no Django nor app is an import-linter contract in pyproject.toml.)
"""

import re

from mlrange.common.validation import Checker, Choice, ListOf, Obj, Pattern, Positive, Text, read_yaml

SPEC = Obj(
    {
        "name": Text(max_length=5, one_line=True),
        "size": Positive(integer=True, maximum=10),
        "kind": Choice(("a", "b"), what="kind"),
        "tags": ListOf(Pattern(re.compile(r"^[a-z]+$"), "{value!r} is not a tag"), min_items=1, unique_by=""),
    }
)


def _errors(value, wording=None) -> list[str]:
    checker = Checker("x.yaml", wording)
    SPEC.check(value, "", checker)
    return [str(error) for error in checker.errors]


def test_every_problem_is_reported_with_file_and_field():
    assert _errors({"name": "toolong", "size": 11, "kind": "c", "tags": ["ok", "ok", "No"], "extra": 1}) == [
        "x.yaml: extra: unknown key (allowed: name, size, kind, tags)",
        "x.yaml: name: is 7 characters long; the limit is 5",
        "x.yaml: size: must be at most 10",
        "x.yaml: kind: unknown kind 'c' (expected one of: a, b)",
        "x.yaml: tags[1]: duplicate value 'ok' (first used at tags[0])",
        "x.yaml: tags[2]: 'No' is not a tag",
    ]


def test_a_file_format_keeps_its_own_wording():
    terse = {"unknown_key": "unknown key", "too_long": "longer than {limit} characters"}
    assert _errors({"name": "a\nb", "size": 0, "kind": "a", "tags": [], "extra": 1}, terse) == [
        "x.yaml: extra: unknown key",
        "x.yaml: name: expected a single line",
        "x.yaml: size: expected a positive integer",
        "x.yaml: tags: expected at least 1 items, found 0",
    ]


def test_read_yaml_rejects_repeated_keys_with_their_line(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\na: 2\n", encoding="utf-8")
    data, errors = read_yaml(path, "x.yaml")
    assert data is None
    assert [str(e) for e in errors] == ["x.yaml: invalid YAML at line 2, column 1: found duplicate key 'a'"]
