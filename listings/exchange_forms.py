"""Web forms of exchanges (Flask-WTF: CSRF on every form, errors next to each field)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, DecimalField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from listings.forms import PlainTextForm


class TermsForm(PlainTextForm):
    """How much, and between which days."""

    quantity = DecimalField(
        _l("Quantity"),
        validators=[
            InputRequired(_l("Say how much.")),
            NumberRange(min=0.001, message=_l("More than 0, please.")),
        ],
    )
    window_from = DateField(_l("From (day)"), validators=[Optional()])
    window_until = DateField(_l("Until (day)"), validators=[Optional()])

    def validate_window_until(self, field: DateField) -> None:
        if field.data and self.window_from.data and field.data < self.window_from.data:
            raise ValueError(_l("The window ends before it starts."))


class RequestForm(TermsForm):
    """Ask for a listing."""

    message = TextAreaField(
        _l("Message to the other organisation"), validators=[Optional(), Length(max=5000)]
    )


class MessageForm(PlainTextForm):
    text = TextAreaField(
        _l("Your message"),
        validators=[DataRequired(_l("Write something.")), Length(max=5000)],
    )


class HandOverForm(PlainTextForm):
    quantity = DecimalField(
        _l("Quantity that changed hands"),
        validators=[
            InputRequired(_l("Say how much.")),
            NumberRange(min=0.001, message=_l("More than 0, please.")),
        ],
    )
    reference = StringField(
        _l("Weighing ticket or delivery note (optional)"), validators=[Length(max=200)]
    )


class ProblemForm(PlainTextForm):
    text = TextAreaField(
        _l("What went wrong?"),
        validators=[DataRequired(_l("Say what went wrong.")), Length(max=2000)],
    )
