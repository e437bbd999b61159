from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.validators import RegexValidator

from findings.lifecycle import REQUIRES_REASON, Event
from findings.models import PROJECT_KEY_PATTERN, Review, Role, Severity
from findings.services.ingest.document_import import DOCUMENT_FORMAT
from findings.services.ingest.results import MAX_ONLY_PATH_LENGTH, MAX_ONLY_PATHS, only_paths
from scanners import registry


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class UploadForm(forms.Form):
    project = forms.CharField(
        max_length=20, help_text="An existing project key, or a new one to create it."
    )
    # The declarative metaclass moves fields into base_fields, so this does not replace
    # BaseForm.files (the uploads) at run time; the input's name "files" is public.
    files = MultipleFileField(label="Reports")  # type: ignore[assignment]
    commit = forms.CharField(max_length=40, required=False)
    branch = forms.CharField(max_length=200, required=False)
    root = forms.CharField(
        max_length=1000, required=False, label="Scan root", help_text="Directory the scan ran in."
    )
    format = forms.ChoiceField(
        required=False,
        choices=[("", "Detect from content")]
        + [(key, key) for key in registry.FORMATS]
        + [(DOCUMENT_FORMAT, "remediation document (Markdown)")],
    )

    only = forms.CharField(
        required=False,
        # Room for the most paths of the longest kind; only_paths says what is wrong within.
        max_length=MAX_ONLY_PATHS * (MAX_ONLY_PATH_LENGTH + 2),
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "placeholder": "src/api\nlib/utils.py",
                "aria-describedby": "only-help",
            }
        ),
        label="Scanned paths (partial scan)",
        help_text="Only if the scan covered part of the repository: its directories or files, "
        "one a line, relative to the repository root. Findings elsewhere stay open, marked "
        "“not seen since”.",
    )

    def clean_project(self) -> str:
        key = self.cleaned_data["project"].strip().upper()
        RegexValidator(PROJECT_KEY_PATTERN, "Use 2-20 characters of A-Z, 0-9 and '-'.")(key)
        return key

    def clean_only(self) -> str:
        try:
            return only_paths(self.cleaned_data["only"].splitlines())
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None


class ReviewForm(forms.Form):
    """A reviewer's verdict; the service decides whether it may be given."""

    verdict = forms.ChoiceField(choices=Review.Verdict.choices)
    comment = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required to reject or ask for more work.",
    )


class TransitionForm(forms.Form):
    """A hand-made lifecycle event, limited to the ones the user's role allows right now.

    No event is chosen by default: a status change is always a choice someone made.
    """

    event = forms.ChoiceField(choices=(), error_messages={"required": "choose an action first."})
    reason = forms.CharField(required=False, max_length=2000, widget=forms.TextInput())

    def __init__(self, *args, events: Sequence[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["event"]
        assert isinstance(field, forms.ChoiceField)  # declared so above
        field.choices = [("", "Choose an action…")] + [
            (event, Event(event).label) for event in events
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        event = data.get("event")
        if event in REQUIRES_REASON and not (data.get("reason") or "").strip():
            self.add_error("reason", f"“{Event(event).label}” needs a reason.")
        return data


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=[(role.label, role.label) for role in Role])


class BoardFilterForm(forms.Form):
    """The status board's filters, kept in the URL; ids are checked against the project."""

    severity = forms.ChoiceField(
        required=False, choices=[("", "Any severity")] + [(s.label, s.label) for s in Severity]
    )
    tool = forms.CharField(required=False, max_length=200)
    path = forms.CharField(required=False, max_length=1000)
    q = forms.CharField(required=False, max_length=200, label="Text")
    phase = forms.IntegerField(required=False, min_value=1)
    sprint = forms.IntegerField(required=False, min_value=1)
    area = forms.IntegerField(required=False, min_value=1, label="Health area")
    triaged = forms.BooleanField(required=False, label="Show triaged")


class _SprintDates(forms.Form):
    """A sprint's window: a start and an end on or after it."""

    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "A sprint ends on or after its start.")
        return data


class SprintForm(_SprintDates):
    """A new sprint of a project: a name, its dates and how many findings it can take."""

    name = forms.CharField(max_length=200)
    capacity = forms.IntegerField(min_value=0, max_value=100_000, initial=10)
    field_order = ["name", "start", "end", "capacity"]


class AdoptForm(_SprintDates):
    """The dates of a sprint adopted from a document's section (suggested on the page)."""


class PlanForm(forms.Form):
    """One finding's plan: its sprint, phase and assignee (empty clears each)."""

    sprint = forms.IntegerField(required=False, min_value=1)
    phase = forms.IntegerField(required=False, min_value=1)
    assignee = forms.CharField(required=False, max_length=150)


class TokenForm(forms.Form):
    """A new API token: a name, a role no higher than the creator's, an optional expiry."""

    name = forms.CharField(max_length=100, help_text="Where it is used, e.g. 'GitHub Actions'.")
    role = forms.ChoiceField(choices=())
    days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=366,
        label="Expires after (days)",
        help_text="Leave empty to keep it until revoked.",
    )

    def __init__(self, *args, roles: list[Role], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["role"]
        assert isinstance(field, forms.ChoiceField)  # declared so above
        field.choices = [(role.label, role.label) for role in roles]
        self.fields["role"].initial = Role.DEVELOPER.label
