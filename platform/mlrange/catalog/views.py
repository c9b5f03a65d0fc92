"""Pages of the skill guide: server-rendered, public, read-only."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from mlrange.catalog import selectors
from mlrange.catalog.atlas import ATLAS_VERSION
from mlrange.catalog.models import Resource
from mlrange.catalog.taxonomies import (
    NIST_AI_RMF_FUNCTIONS,
    OWASP_ML_TOP_10,
    OWASP_ML_TOP_10_URL,
    OWASP_ML_TOP_10_VERSION,
)


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "catalog/home.html",
        {
            "guide": selectors.guide_get(),
            "subskills": selectors.subskill_list(),
            "levels": selectors.level_list(),
        },
    )


def levels(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/levels.html", {"levels": selectors.level_list()})


def subskill_detail(request: HttpRequest, slug: str) -> HttpResponse:
    subskill = selectors.subskill_get(slug=slug)
    return render(
        request,
        "catalog/subskill_detail.html",
        {
            "subskill": subskill,
            "subskills": selectors.subskill_list(),
            "misconceptions": selectors.misconception_list(subskill=subskill),
            "use_cases": selectors.use_case_list(subskill=subskill),
            "projects": selectors.project_list(subskill=subskill),
        },
    )


def learning_path(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/path.html", {"stages": selectors.path_stage_list()})


def misconceptions(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "catalog/misconceptions.html",
        {"misconceptions": selectors.misconception_list()},
    )


def use_cases(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/use_cases.html", {"use_cases": selectors.use_case_list()})


def projects(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "catalog/projects.html",
        {"projects": selectors.project_list(), "guide": selectors.guide_get()},
    )


def resources(request: HttpRequest) -> HttpResponse:
    all_resources: list[Resource] = list(selectors.resource_list())
    return render(
        request,
        "catalog/resources.html",
        {
            "free_resources": [r for r in all_resources if r.is_free],
            "paid_resources": [r for r in all_resources if not r.is_free],
            "guide": selectors.guide_get(),
            "owasp_top_10": OWASP_ML_TOP_10.values(),
            "owasp_version": OWASP_ML_TOP_10_VERSION,
            "owasp_url": OWASP_ML_TOP_10_URL,
            "nist_functions": NIST_AI_RMF_FUNCTIONS.values(),
            "atlas_version": ATLAS_VERSION,
        },
    )


def faq(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/faq.html", {"faq": selectors.faq_list()})


def careers(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "catalog/careers.html",
        {"careers": selectors.careers_get(), "guide": selectors.guide_get()},
    )
