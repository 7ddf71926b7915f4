"""Forms of the account pages: profile, login address, password, members, leaving."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import URL, DataRequired, Email, EqualTo, Length, Optional, Regexp

from listings.forms import COUNTRY_LABELS, KIND_LABELS, LANGUAGE_LABELS, PlainTextForm
from shared.event_schemas import ORGANISATION_KINDS

ROLE_LABELS = {"owner": _l("Owner (manages members and data)"), "member": _l("Member")}
NEW_PASSWORD = _l("New password (at least 10 characters)")


class ProfileForm(PlainTextForm):
    name = StringField(_l("Organisation name"), validators=[DataRequired(), Length(2, 200)])
    kind = SelectField(
        _l("Kind of organisation"), choices=[(k, KIND_LABELS[k]) for k in ORGANISATION_KINDS]
    )
    country = SelectField(_l("Country"), choices=list(COUNTRY_LABELS.items()))
    place = StringField(_l("Town or postcode"), validators=[DataRequired(), Length(2, 200)])
    description = TextAreaField(
        _l("What your organisation does (public)"), validators=[Optional(), Length(max=2000)]
    )
    website = StringField(
        _l("Website (public)"),
        validators=[
            Optional(),
            Length(max=300),
            URL(message=_l("Enter a full address, https://…")),
        ],
    )
    contact_email = EmailField(
        _l("Contact e-mail for alerts (private)"), validators=[DataRequired(), Email()]
    )
    phone = StringField(
        _l("Phone (private: shown to the other side once an exchange is accepted)"),
        validators=[
            Optional(),
            Length(max=40),
            Regexp(r"^[0-9+()./ -]*$", message=_l("Digits, spaces and + ( ) . / - only.")),
        ],
    )
    language = SelectField(_l("Preferred language"), choices=list(LANGUAGE_LABELS.items()))


class EmailChangeForm(PlainTextForm):
    email = EmailField(_l("Your login e-mail"), validators=[DataRequired(), Email()])


class PasswordChangeForm(PlainTextForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(NEW_PASSWORD, validators=[DataRequired(), Length(10, 200)])


class InviteForm(PlainTextForm):
    email = EmailField(_l("Colleague's e-mail"), validators=[DataRequired(), Email()])
    role = SelectField(_l("Role"), choices=list(ROLE_LABELS.items()), default="member")
    language = SelectField(_l("Language of the invitation"), choices=list(LANGUAGE_LABELS.items()))


class ForgotForm(PlainTextForm):
    email = EmailField(_l("Your login e-mail"), validators=[DataRequired(), Email()])


class ResetForm(PlainTextForm):
    password = PasswordField(NEW_PASSWORD, validators=[DataRequired(), Length(10, 200)])
    again = PasswordField(
        _l("The new password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two do not match."))],
    )


class InvitationForm(PlainTextForm):
    name = StringField(_l("Your name"), validators=[Optional(), Length(max=200)])
    language = SelectField(_l("Preferred language"), choices=list(LANGUAGE_LABELS.items()))
    password = PasswordField(
        _l("Password (at least 10 characters)"), validators=[DataRequired(), Length(10, 200)]
    )


class DeleteForm(PlainTextForm):
    confirm = StringField(
        _l("Type the organisation's name to confirm"), validators=[DataRequired()]
    )
