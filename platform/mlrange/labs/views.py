"""Lab pages: the list, a lab with its editor, and a submission's live status."""

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from mlrange.accounts.selectors import user_from_request
from mlrange.catalog import selectors as catalog_selectors
from mlrange.common.exceptions import ApplicationError
from mlrange.labs import content, hints, notebooks, registry, runner, selectors, services
from mlrange.labs.models import Lab, Submission

STATUS_WAIT_S = 10.0
QUEUED_WAIT_S = 2.0
"""While queued, the long poll answers at least this often, so the queue position counts down."""
HISTORY_SIZE = 20


def _lab_or_404(slug: str) -> Lab:
    try:
        return selectors.lab_get_active(slug=slug)
    except Lab.DoesNotExist as exc:
        raise Http404("No such lab.") from exc


def lab_list(request: HttpRequest) -> HttpResponse:
    """The labs grouped by sub-skill in learning-path order, filtered by the `subskill` and
    `level` GET parameters (a plain form: works without JavaScript), each with the learner's
    status and best score. A fixed number of queries, however many labs and submissions."""
    subskills = list(catalog_selectors.subskill_list())
    levels = list(catalog_selectors.level_list())
    chosen = {"subskill": request.GET.get("subskill", ""), "level": request.GET.get("level", "")}
    known = {"subskill": {s.slug for s in subskills}, "level": {lv.slug for lv in levels}}
    problems = [
        f"There is no {name} “{value}”; showing every {name}."
        for name, value in chosen.items()
        if value and value not in known[name]
    ]
    chosen = {name: value if value in known[name] else "" for name, value in chosen.items()}
    learner = user_from_request(request) if request.user.is_authenticated else None
    labs = list(selectors.lab_list_in_path_order(learner=learner, **chosen))
    stages = {stage.level_id: stage for stage in catalog_selectors.path_stage_list()}
    groups = []
    for subskill in subskills:
        members = [lab for lab in labs if lab.subskill_id == subskill.pk]
        for lab in members:
            lab.path_stage = stages.get(lab.level_id)  # type: ignore[attr-defined]  # template-only
        if members:
            passed = sum(1 for lab in members if getattr(lab, "status", "") == selectors.LabStatus.PASSED)
            groups.append({"subskill": subskill, "labs": members, "passed": passed})
    context = {
        "groups": groups,
        "lab_count": len(labs),
        "subskills": subskills,
        "levels": levels,
        "chosen": chosen,
        "is_filtered": any(chosen.values()),
        "problems": problems,
        "has_labs": selectors.lab_list_active().exists() if not labs else True,
    }
    return render(request, "labs/list.html", context)


def _detail_context(
    request: HttpRequest, lab: Lab, *, code: str | None = None, error: str = ""
) -> dict[str, object]:
    """What the lab page shows. The editor opens on ``code`` if given (a refused submission keeps
    what was sent), else on the learner's draft, else on the starter code."""
    pack = content.lab_pack(lab.slug)
    history: list[Submission] = []
    latest: Submission | None = None
    has_draft = False
    if request.user.is_authenticated:
        learner = user_from_request(request)
        history = list(selectors.submission_list_for_learner(learner=learner, lab=lab)[:HISTORY_SIZE])
        if history:
            latest = selectors.submission_get_for_learner(learner=learner, submission_id=history[0].pk)
        if code is None:
            code = selectors.draft_code_for_learner(learner=learner, lab=lab)
            has_draft = code is not None
    return {
        "lab": lab,
        "pack": pack,
        "code": pack.starter_code if code is None else code,
        "has_draft": has_draft,
        "history": history,
        "latest": latest,
        "queue_position": selectors.submission_queue_position(submission=latest) if latest else None,
        "error": error,
        "limits": runner.lab_limits(registry.get_lab(lab.slug)),
        "isolation": runner.isolation_mode(),
        "sandbox_problem": runner.labs_problem(),
    }


def lab_detail(request: HttpRequest, slug: str) -> HttpResponse:
    lab = _lab_or_404(slug)
    return render(request, "labs/detail.html", _detail_context(request, lab))


@login_required
@require_POST
def lab_submit(request: HttpRequest, slug: str) -> HttpResponse:
    lab = _lab_or_404(slug)
    mode = request.POST.get("mode", "")
    upload = request.FILES.get("notebook")
    code = None if upload else request.POST.get("code", "")
    learner = user_from_request(request)
    try:
        if code is not None:
            services.draft_save(learner=learner, lab=lab, code=code)
        submission = services.submission_create(
            learner=learner,
            lab=lab,
            mode=mode,
            code=code,
            notebook=upload.read() if upload else None,
            notebook_name=upload.name if upload and upload.name else "",
        )
    except ApplicationError as exc:
        context = _detail_context(request, lab, code=code, error=exc.message)
        return render(request, "labs/detail.html", context, status=exc.status_code)
    return redirect("labs:submission", submission_id=submission.pk)


@login_required
@require_POST
def lab_draft_reset(request: HttpRequest, slug: str) -> HttpResponse:
    """Forget the learner's draft (the page's script does this in place; this is the form's way)."""
    lab = _lab_or_404(slug)
    services.draft_discard(learner=user_from_request(request), lab=lab)
    messages.success(request, "The editor holds the starter code again.")
    return redirect("labs:detail", slug=lab.slug)


@login_required
def lab_history(request: HttpRequest, slug: str) -> HttpResponse:
    """The learner's submissions of a lab: the table the lab page refreshes when a run ends."""
    lab = _lab_or_404(slug)
    history = selectors.submission_list_for_learner(learner=user_from_request(request), lab=lab)
    return render(request, "labs/_history.html", {"lab": lab, "history": history[:HISTORY_SIZE]})


def _own_submission(request: HttpRequest, submission_id: UUID) -> Submission:
    try:
        return selectors.submission_get_for_learner(
            learner=user_from_request(request), submission_id=submission_id
        )
    except Submission.DoesNotExist as exc:
        raise Http404("No such submission.") from exc


@login_required
def submission_detail(request: HttpRequest, submission_id: UUID) -> HttpResponse:
    submission = _own_submission(request, submission_id)
    return render(
        request,
        "labs/submission.html",
        {
            "submission": submission,
            "lab": submission.lab,
            "queue_position": selectors.submission_queue_position(submission=submission),
        },
    )


@login_required
@require_POST
def submission_restore(request: HttpRequest, submission_id: UUID) -> HttpResponse:
    """Put the code of one of the learner's submissions back into their editor (as the draft)."""
    submission = _own_submission(request, submission_id)
    code = selectors.submission_code(submission=submission)
    try:
        services.draft_save(learner=user_from_request(request), lab=submission.lab, code=code)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The code of that submission is in the editor again.")
    return redirect("labs:detail", slug=submission.lab.slug)


@login_required
def submission_status(request: HttpRequest, submission_id: UUID) -> HttpResponse:
    """The live part of the submission page: htmx asks again as soon as each answer arrives, and
    the server holds the request until the status changes (a long poll, up to 10 s; 2 s while
    queued, so the queue position counts down as runs ahead are taken)."""
    submission = _own_submission(request, submission_id)
    if request.GET.get("wait") == "1" and not submission.is_final:
        submission = selectors.submission_wait(
            learner=user_from_request(request),
            submission_id=submission.pk,
            timeout=QUEUED_WAIT_S if submission.status == Submission.Status.QUEUED else STATUS_WAIT_S,
            until_final=False,
        )
    response = render(
        request,
        "labs/_submission_status.html",
        {
            "submission": submission,
            "queue_position": selectors.submission_queue_position(submission=submission),
            # Under the lab page's "Result" heading the part's headings are one level down.
            "heading_level": 3 if request.GET.get("h") == "3" else 2,
        },
    )
    if submission.is_final:
        response["HX-Trigger"] = "submission-final"
    return response


@login_required
def submission_notebook(request: HttpRequest, submission_id: UUID) -> HttpResponse:
    """One of the learner's submissions as a notebook: its cells with their outputs and figures."""
    submission = _own_submission(request, submission_id)
    response = HttpResponse(
        notebooks.submission_notebook(submission=submission), content_type="application/x-ipynb+json"
    )
    name = notebooks.submission_notebook_filename(submission=submission)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def lab_notebook(request: HttpRequest, slug: str) -> HttpResponse:
    lab = _lab_or_404(slug)
    pack = content.lab_pack(lab.slug)
    response = HttpResponse(pack.notebook_json, content_type="application/x-ipynb+json")
    response["Content-Disposition"] = f'attachment; filename="{lab.slug}-starter.ipynb"'
    return response


@login_required
@require_POST
def lab_hint_reveal(request: HttpRequest, slug: str) -> HttpResponse:
    """Reveal the learner's next hint. htmx gets the hints panel back (the new hint focused);
    a plain form post goes back to the lab page at the new hint."""
    lab = _lab_or_404(slug)
    raw_number = request.POST.get("number", "")
    error = ""
    try:
        number = int(raw_number) if raw_number else None
        state = hints.hint_reveal(learner=user_from_request(request), lab=lab, number=number)
    except ValueError:
        error = "Ask for a hint by its number."
    except ApplicationError as exc:
        error = exc.message
    if request.headers.get("HX-Request") == "true":
        context = {"lab": lab, "hint_error": error, "hint_just_revealed": not error}
        return render(request, "labs/_hints.html", context)  # 200 even for an error: htmx swaps only 2xx
    if error:
        messages.error(request, error)
        return redirect(f"{reverse('labs:detail', kwargs={'slug': lab.slug})}#hints")
    return redirect(f"{reverse('labs:detail', kwargs={'slug': lab.slug})}#hint-{state.used}")
