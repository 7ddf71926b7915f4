"""Pages in French, German, English and Luxembourgish: the language comes from ?lang=, the
session, the member's setting, then the browser; the switcher in the page header sets ?lang=."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, request, session
from flask_babel import Babel, get_locale

from shared.auth import LANGUAGE
from shared.edge import forwarded_identity

SUPPORTED_LANGUAGES = ("fr", "de", "en", "lb")
DEFAULT_LANGUAGE = "en"
SHARED_TRANSLATIONS = Path(__file__).with_name("translations")


def select_language() -> str:
    """The language of this request's page."""
    asked = request.args.get("lang")
    if asked in SUPPORTED_LANGUAGES:
        return asked
    chosen = session.get(LANGUAGE)
    if chosen in SUPPORTED_LANGUAGES:
        return str(chosen)
    identity = forwarded_identity()
    if identity is not None and identity.language in SUPPORTED_LANGUAGES:
        return identity.language
    return request.accept_languages.best_match(SUPPORTED_LANGUAGES) or DEFAULT_LANGUAGE


def language_switch_url(code: str) -> str:
    """This page in another language: the same query (a search, its page) with only `lang`
    replaced, so switching language on a results page keeps the results."""
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    return "?" + urlencode([*args, ("lang", code)])


def _remember_language() -> None:
    asked = request.args.get("lang")
    if asked in SUPPORTED_LANGUAGES:
        session[LANGUAGE] = asked


def init_i18n(app: Flask, translation_dirs: list[Path]) -> Babel:
    """Flask-Babel over the service's own catalogue plus the shared one (page frame)."""
    directories = [*translation_dirs, SHARED_TRANSLATIONS]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(str(d) for d in directories)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.before_request(_remember_language)
    app.jinja_env.globals.update(
        supported_languages=SUPPORTED_LANGUAGES,
        get_locale=get_locale,
        language_switch_url=language_switch_url,
    )
    return Babel(app, locale_selector=select_language)
