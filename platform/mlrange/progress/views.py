"""Dashboard pages: a learner's progress, joining and creating cohorts, a cohort's page and CSV."""

from __future__ import annotations

import csv
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from mlrange.accounts.selectors import user_from_request
from mlrange.common.exceptions import ApplicationError
from mlrange.labs import hints
from mlrange.progress import charts, selectors, services
from mlrange.progress.forms import CohortCreateForm, CohortJoinForm, DeliverableLinkForm


def _parse_times(rows: list[dict[str, Any]], key: str = "at") -> list[dict[str, Any]]:
    return [{**row, key: datetime.fromisoformat(row[key]) if row.get(key) else None} for row in rows]


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    user = user_from_request(request)
    report = services.progress_for_learner(learner=user)
    context: dict[str, Any] = {
        "report": report,
        "attempts": _parse_times(report["history"]["attempts"]),
        "submissions": _parse_times(report["history"]["submissions"]),
        "radar": charts.radar(report["subskills"]),
        "timeline_chart": charts.progress_line(report["timeline"], report["subskills"]),
        "lab_chart": charts.lab_bars(report["labs"]) if report["labs"] else None,
        "hint_use": hints.hint_use_for_learners(learner_ids=[user.pk]),
        "join_form": CohortJoinForm(),
        "create_form": CohortCreateForm() if user.is_instructor else None,
        "my_cohorts": list(selectors.cohort_list_for_learner(learner=user)),
        "taught_cohorts": list(selectors.cohort_list_for_instructor(instructor=user))
        if user.is_instructor
        else [],
    }
    return render(request, "progress/dashboard.html", context)


@login_required
@require_POST
def cohort_join(request: HttpRequest) -> HttpResponse:
    form = CohortJoinForm(request.POST)
    if form.is_valid():
        try:
            cohort = services.cohort_join(learner=user_from_request(request), code=form.cleaned_data["code"])
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"You joined {cohort.name}.")
    else:
        messages.error(request, "Type the join code your instructor gave you.")
    return redirect("progress:dashboard")


@login_required
@require_POST
def cohort_create(request: HttpRequest) -> HttpResponse:
    form = CohortCreateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the cohort a name.")
        return redirect("progress:dashboard")
    cohort = services.cohort_create(instructor=user_from_request(request), name=form.cleaned_data["name"])
    messages.success(request, f"Cohort created. Learners join with the code {cohort.code}.")
    return redirect("progress:cohort", cohort_id=cohort.pk)


@login_required
@require_POST
def deliverable_link(request: HttpRequest) -> HttpResponse:
    form = DeliverableLinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That link is not a valid web address (http or https).")
        return redirect("progress:dashboard")
    try:
        link = services.deliverable_link_set(
            learner=user_from_request(request),
            stage_slug=form.cleaned_data["stage"],
            deliverable_index=form.cleaned_data["index"],
            url=form.cleaned_data["url"] or "",
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Deliverable linked." if link else "Link removed.")
    return redirect("progress:dashboard")


@login_required
@require_GET
def cohort_detail(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = selectors.cohort_get_for_instructor(cohort_id=cohort_id, instructor=user_from_request(request))
    report = services.cohort_progress(cohort=cohort)
    return render(request, "progress/cohort.html", {"cohort": cohort, "report": report})


@login_required
@require_GET
def cohort_export(request: HttpRequest, cohort_id: int) -> HttpResponse:
    cohort = selectors.cohort_get_for_instructor(cohort_id=cohort_id, instructor=user_from_request(request))
    report = services.cohort_progress(cohort=cohort)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cohort-{cohort.pk}-progress.csv"'
    writer = csv.writer(response)
    slugs = [s["slug"] for s in report["subskills"]]
    writer.writerow(
        [
            "learner",
            "overall_level",
            "overall_theta",
            *(f"{slug}_level" for slug in slugs),
            *(f"{slug}_theta" for slug in slugs),
            "labs_passed",
            "hints_used",
            "last_activity",
            "stuck",
        ]
    )
    for row in report["learners"]:
        writer.writerow(
            [
                _csv_safe(row["username"]),
                row["overall"]["level"],
                row["overall"]["theta"],
                *(row["levels"][slug]["level"] for slug in slugs),
                *(row["levels"][slug]["theta"] for slug in slugs),
                row["labs_passed"],
                row["hints_used"],
                row["last_activity"] or "",
                _csv_safe("; ".join(row["stuck"])),
            ]
        )
    return response


def _csv_safe(text: str) -> str:
    """Neutralise spreadsheet formulas in learner-chosen text (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
