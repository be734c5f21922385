from django import forms
from django.utils.translation import gettext_lazy


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label=gettext_lazy("Name"),
        help_text=gettext_lazy("What the key is for, e.g. the tool or machine that uses it."),
        widget=forms.TextInput(
            attrs={"placeholder": gettext_lazy("ComfyUI on my desktop"), "autocomplete": "off"}
        ),
    )
