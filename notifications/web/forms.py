"""The settings page's forms (Flask-WTF: CSRF token, errors beside each field)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TimeField,
)
from wtforms.validators import URL, DataRequired, Length, Optional, Regexp

from notifications.preferences import Preferences
from shared.text import SINGLE_LINE

PRINTABLE = SINGLE_LINE
HOURS = [(str(hour), f"{hour:02d}:00") for hour in range(24)]


class MemberPreferencesForm(FlaskForm):
    """A member's own e-mail alerts."""

    email = BooleanField(_l("Send alerts by e-mail"))
    frequency = RadioField(
        _l("How often"),
        choices=[("instant", _l("At once")), ("digest", _l("One e-mail a day (digest)"))],
        default="instant",
    )
    digest_hour = SelectField(_l("Digest sent at"), choices=HOURS, default="7")
    muted_categories = SelectMultipleField(
        _l("Categories you do not want to hear about"),
        # What the type-to-filter box of /assets/category_picker.js says.
        render_kw={
            "class": "category-picker",
            "data-filter-label": _l("Find a category: a word or an EWC code (15 01 03)"),
            "data-filter-none": _l("No category matches; try another word."),
            "data-filter-one": _l("One category matches."),
            "data-filter-many": _l("%(num)s categories match.", num="%(num)s"),
        },
    )
    quiet_start = TimeField(_l("Quiet hours from"), validators=[Optional()])
    quiet_end = TimeField(_l("Quiet hours until"), validators=[Optional()])
    save = SubmitField(_l("Save"))

    def validate(self, extra_validators: Any = None) -> bool:
        """The fields, then the rule that quiet hours need both ends."""
        valid = bool(super().validate(extra_validators))
        if (self.quiet_start.data is None) != (self.quiet_end.data is None):
            message = str(_l("Give both ends of the quiet hours, or neither."))
            self.quiet_end.errors = [*self.quiet_end.errors, message]
            return False
        return valid

    def fill(self, prefs: Preferences) -> None:
        """Show stored preferences."""
        self.email.data = prefs.email
        self.frequency.data = "digest" if prefs.digest else "instant"
        self.digest_hour.data = str(prefs.digest_hour)
        self.muted_categories.data = sorted(prefs.muted_categories)
        self.quiet_start.data = prefs.quiet_start
        self.quiet_end.data = prefs.quiet_end

    def preferences(self, current: Preferences) -> Preferences:
        """The submitted preferences (channels this form does not show are kept)."""
        return Preferences(
            email=bool(self.email.data),
            webhook=current.webhook,
            inbox=current.inbox,
            digest=self.frequency.data == "digest",
            digest_hour=int(self.digest_hour.data or 7),
            muted_categories=frozenset(self.muted_categories.data or []),
            quiet_start=self.quiet_start.data,
            quiet_end=self.quiet_end.data,
        )


class OrganisationPreferencesForm(MemberPreferencesForm):
    """The organisation's alerts: its contact address, its webhooks, its inbox."""

    email = BooleanField(_l("Send alerts to the organisation's contact address"))
    webhook = BooleanField(_l("Send alerts to our webhooks"))
    inbox = BooleanField(_l("Keep alerts in the inbox"))

    def fill(self, prefs: Preferences) -> None:
        """Show stored preferences."""
        super().fill(prefs)
        self.webhook.data = prefs.webhook
        self.inbox.data = prefs.inbox

    def preferences(self, current: Preferences) -> Preferences:
        """The submitted preferences."""
        base = super().preferences(current)
        return replace(base, webhook=bool(self.webhook.data), inbox=bool(self.inbox.data))


class WebhookForm(FlaskForm):
    """Register a webhook endpoint."""

    url = StringField(
        _l("Endpoint URL"),
        validators=[DataRequired(), Length(max=2000), Regexp(PRINTABLE), URL(require_tld=False)],
    )
    description = StringField(
        _l("Description (optional)"), validators=[Length(max=200), Regexp(PRINTABLE)]
    )
    add = SubmitField(_l("Add the endpoint"))
