"""Web forms of the listings pages (Flask-WTF: CSRF on every form, errors per field)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from shared.event_schemas import ORGANISATION_KINDS, UNITS
from shared.text import CONTROL_CHARACTERS


class PlainTextForm(FlaskForm):
    """A form whose text fields refuse control characters (nobody types them)."""

    def validate(self, extra_validators: Any = None) -> bool:
        valid = bool(super().validate(extra_validators))
        for field in self:
            if isinstance(field.data, str) and CONTROL_CHARACTERS.search(field.data):
                field.errors = [*field.errors, _l("Contains characters that cannot be stored.")]
                valid = False
        return valid


UNIT_LABELS = {
    "kg": _l("kg"),
    "t": _l("tonnes"),
    "m3": _l("m³"),
    "l": _l("litres"),
    "pieces": _l("pieces"),
    "pallets": _l("pallets"),
    "g": _l("g"),
    "crates": _l("crates"),
}
KIND_LABELS = {
    "business": _l("Business"),
    "association": _l("Association"),
    "farm": _l("Farm"),
    "public_body": _l("Public body"),
    "other": _l("Other"),
}
COUNTRY_LABELS = {
    "LU": _l("Luxembourg"),
    "FR": _l("France (Lorraine)"),
    "DE": _l("Germany (Saarland, Rhineland-Palatinate)"),
    "BE": _l("Belgium (Wallonia)"),
}
LANGUAGE_LABELS = {"fr": "Français", "de": "Deutsch", "en": "English", "lb": "Lëtzebuergesch"}


class RegisterForm(PlainTextForm):
    name = StringField(_l("Organisation name"), validators=[DataRequired(), Length(2, 200)])
    kind = SelectField(
        _l("Kind of organisation"), choices=[(k, KIND_LABELS[k]) for k in ORGANISATION_KINDS]
    )
    country = SelectField(_l("Country"), choices=list(COUNTRY_LABELS.items()))
    place = StringField(_l("Town or postcode"), validators=[DataRequired(), Length(2, 200)])
    contact_email = EmailField(
        _l("Contact e-mail for alerts"), validators=[DataRequired(), Email()]
    )
    phone = StringField(
        _l("Phone (optional: shown to the other side once an exchange is accepted)"),
        validators=[
            Optional(),
            Length(max=40),
            Regexp(r"^[0-9+()./ -]*$", message=_l("Digits, spaces and + ( ) . / - only.")),
        ],
    )
    language = SelectField(_l("Preferred language"), choices=list(LANGUAGE_LABELS.items()))
    member_name = StringField(_l("Your name"), validators=[Optional(), Length(max=200)])
    email = EmailField(_l("Your login e-mail"), validators=[DataRequired(), Email()])
    password = PasswordField(
        _l("Password (at least 10 characters)"), validators=[DataRequired(), Length(10, 200)]
    )


class LoginForm(PlainTextForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class ListingForm(PlainTextForm):
    kind = RadioField(
        _l("I want to"),
        choices=[("offer", _l("offer something")), ("need", _l("find something"))],
        validators=[DataRequired()],
    )
    title = StringField(_l("Title"), validators=[DataRequired(), Length(3, 200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    category = SelectField(_l("Category"), validators=[DataRequired(_l("Choose a category."))])
    quantity = DecimalField(
        _l("Quantity"), places=None, validators=[InputRequired(), NumberRange(min=0.001)]
    )
    unit = SelectField(_l("Unit"), choices=[(u, UNIT_LABELS[u]) for u in UNITS])
    min_quantity = DecimalField(
        _l("Smallest quantity worth it (needs only)"),
        places=None,
        validators=[Optional(), NumberRange(min=0.001)],
    )
    place = StringField(_l("Where (town or postcode)"), validators=[DataRequired(), Length(2, 200)])
    radius_km = DecimalField(
        _l("How far you will collect or deliver (km)"),
        places=None,
        default=25,
        validators=[InputRequired(message=_l("Enter a distance, 0 if none")), NumberRange(0, 500)],
    )
    available_until = DateField(_l("Available until"), validators=[Optional()])
    use_by = DateField(_l("Use-by date (produce)"), validators=[Optional()])
    recurrence = SelectField(
        _l("Recurrence"),
        choices=[("one-off", _l("One-off")), ("weekly", _l("Weekly")), ("monthly", _l("Monthly"))],
    )
    price_mode = SelectField(
        _l("Price"),
        choices=[
            ("free", _l("Free")),
            ("per_unit", _l("Price per unit")),
            ("negotiable", _l("Negotiable")),
        ],
    )
    price_amount = DecimalField(
        _l("Price per unit (EUR)"), places=2, validators=[Optional(), NumberRange(min=0)]
    )
    max_price = DecimalField(
        _l("Highest price per unit you accept (needs only; 0 for free only)"),
        places=2,
        validators=[Optional(), NumberRange(min=0)],
    )
    draft = BooleanField(_l("Save as a draft (not published yet)"))

    def validate_min_quantity(self, field: DecimalField) -> None:
        if field.data is None:
            return
        if self.kind.data == "offer":
            raise ValidationError(_l("Only a need has a smallest quantity."))
        if self.quantity.data is not None and field.data > self.quantity.data:
            raise ValidationError(_l("Cannot be more than the quantity."))

    def validate_max_price(self, field: DecimalField) -> None:
        if field.data is not None and self.kind.data == "offer":
            raise ValidationError(_l("Only a need has a highest price; an offer states its price."))

    def validate_price_amount(self, field: DecimalField) -> None:
        if self.price_mode.data == "per_unit" and field.data is None:
            raise ValidationError(_l("Enter the price per unit."))


class SearchForm(PlainTextForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    place = StringField(_l("Near (town or postcode)"), validators=[Optional(), Length(2, 200)])
    kind = SelectField(
        _l("Show"),
        choices=[("", _l("Offers and needs")), ("offer", _l("Offers")), ("need", _l("Needs"))],
        validators=[Optional()],
    )
    category = SelectField(_l("Category"), validators=[Optional()])
    radius_km = SelectField(
        _l("Within"),
        choices=[("10", "10 km"), ("25", "25 km"), ("50", "50 km"), ("100", "100 km")],
        default="50",
    )


class TokenForm(PlainTextForm):
    name = StringField(_l("What is the token for?"), validators=[DataRequired(), Length(1, 100)])
