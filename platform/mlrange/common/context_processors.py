"""Template context shared by every page."""

from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    return {
        "brand_name": "MLRange",
        "nav": [
            ("Guide", "home"),
            ("Levels", "catalog:levels"),
            ("Learning path", "catalog:path"),
            ("Quizzes", "assessments:index"),
            ("Labs", "labs:index"),
            ("Resources", "catalog:resources"),
            ("Dashboard", "progress:dashboard"),
        ],
    }
