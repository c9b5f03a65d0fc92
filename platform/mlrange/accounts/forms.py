"""Sign-up form: a username, an optional email, a password and a role."""

from django import forms
from django.contrib.auth.forms import UserCreationForm

from mlrange.accounts.models import User


class SignUpForm(UserCreationForm[User]):
    email = forms.EmailField(required=False, help_text="Optional; used only to reset your password.")
    role = forms.ChoiceField(
        choices=User.Role.choices,
        initial=User.Role.LEARNER,
        help_text="Instructors can create cohorts and follow their learners' progress.",
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email", "role")
