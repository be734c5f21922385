from django import forms


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What the key is for, e.g. the tool or machine that uses it.",
        widget=forms.TextInput(attrs={"placeholder": "ComfyUI on my desktop", "autocomplete": "off"}),
    )
