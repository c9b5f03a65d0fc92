"""Server-side SVG charts: accessible names, a data table for screen readers, escaped text."""

from xml.etree import ElementTree

from mlrange.progress import charts

SVG = "{http://www.w3.org/2000/svg}"


def _subskill(slug, name, position, level="Intermediate", self_level=None):
    return {
        "slug": slug,
        "name": name,
        "position": position,
        "estimate": {"level_name": level, "confidence": 0.6},
        "self_assessed": {"level": self_level, "level_name": self_level.title()} if self_level else None,
    }


def _svg(fragment: str) -> ElementTree.Element:
    svg = fragment[: fragment.index("</svg>") + len("</svg>")]
    return ElementTree.fromstring(svg)  # noqa: S314 -- parses this module's own output, not untrusted input


def test_radar_has_title_desc_and_a_hidden_table_per_subskill():
    html = charts.radar(
        [_subskill("a", "Alpha", 0.3), _subskill("b", "Beta", 0.8), _subskill("c", "Gamma", 0.5)]
    )
    svg = _svg(html)
    assert svg.get("role") == "img"
    assert svg.find(f"{SVG}title").text == "Level per sub-skill"
    assert "Alpha: Intermediate" in svg.find(f"{SVG}desc").text
    assert html.count("<tr>") == 4
    assert 'class="visually-hidden"' in html


def test_radar_draws_the_self_assessment_only_when_every_subskill_is_rated():
    partial = charts.radar(
        [_subskill("a", "A", 0.5, self_level="expert"), _subskill("b", "B", 0.5), _subskill("c", "C", 0.5)]
    )
    full = charts.radar([_subskill(s, s, 0.5, self_level="beginner") for s in "abc"])
    assert 'class="chart-self"' not in partial
    assert 'class="chart-self"' in full


def test_chart_text_is_escaped():
    html = charts.lab_bars(
        [{"title": "<script>x</script>", "best_score": 40, "passed": False, "graded_submissions": 1}]
    )
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    _svg(html)  # well-formed


def test_progress_line_has_one_path_per_series_and_a_row_per_point():
    timeline = [
        {"at": "2026-01-01T10:00:00+00:00", "label": "quiz attempt 1", "overall": 0.1, "thetas": {"a": 0.2}},
        {"at": "2026-01-02T10:00:00+00:00", "label": "lab x", "overall": 0.4, "thetas": {"a": 0.9}},
    ]
    html = charts.progress_line(timeline, [{"slug": "a", "name": "Alpha"}])
    svg = _svg(html)
    assert len(svg.findall(f"{SVG}path")) == 2
    assert "2 evidence events" in svg.find(f"{SVG}desc").text
    assert html.count("<tr>") == 3


def test_an_empty_progress_line_still_renders():
    svg = _svg(charts.progress_line([], [{"slug": "a", "name": "Alpha"}]))
    assert "No evidence yet." in svg.find(f"{SVG}desc").text
