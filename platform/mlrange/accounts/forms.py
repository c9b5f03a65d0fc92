"""Sign-up form: a username, an optional email and a password.

Everyone signs up as a learner: the instructor role is granted by an administrator (the admin's
user list action, or `manage.py grant_instructor USERNAME`), never chosen by the person.
"""

from django import forms
from django.contrib.auth.forms import UserCreationForm

from mlrange.accounts.models import User


class SignUpForm(UserCreationForm[User]):
    email = forms.EmailField(required=False, help_text="Optional; used only to reset your password.")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")
