from django import forms
from django.utils.translation import gettext_lazy

from .models import ApiKey


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label=gettext_lazy("Name"),
        help_text=gettext_lazy("What the key is for, e.g. the tool or machine that uses it."),
        widget=forms.TextInput(
            attrs={"placeholder": gettext_lazy("ComfyUI on my desktop"), "autocomplete": "off"}
        ),
    )
    # Read-only first: most tools only download and look up (docs/security.md#api-key-scopes).
    scope = forms.ChoiceField(
        label=gettext_lazy("Access"),
        choices=ApiKey.Scope.choices,
        initial=ApiKey.Scope.READ,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "Read only: download, search and look up, as you. Read and write: also upload, "
            "publish, edit, delete and comment, as you."
        ),
    )
