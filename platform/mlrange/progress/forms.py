"""Forms of the dashboard: join a cohort, create one, link a deliverable."""

from django import forms


class CohortJoinForm(forms.Form):
    code = forms.CharField(label="Join code", max_length=32, help_text="The code your instructor gave you.")


class CohortCreateForm(forms.Form):
    name = forms.CharField(label="Cohort name", max_length=120)


class DeliverableLinkForm(forms.Form):
    stage = forms.SlugField(widget=forms.HiddenInput)
    index = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    url = forms.URLField(
        label="Link",
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="Where the deliverable lives (a repository, a report). Leave empty to remove.",
    )
