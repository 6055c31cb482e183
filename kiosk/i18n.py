"""Languages: Flask-Babel, with the visitor's choice remembered and the ticket's language kept."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, request, session
from flask_babel import Babel

from kiosk.context import languages

babel = Babel()

# Babel locale for each hall language code, and the HTML lang attribute.
LOCALES = {"zh": "zh_Hans_CN", "en": "en"}
HTML_LANG = {"zh": "zh-CN", "en": "en"}
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


def current_language() -> str:
    """The language of this request: a page's forced one, ?lang=, the visitor's choice, the browser's."""
    supported = languages()
    forced = g.get("lang")
    if forced in supported:
        return str(forced)
    asked = request.args.get("lang")
    if asked in supported:
        session["lang"] = asked
        return str(asked)
    remembered = session.get("lang")
    if remembered in supported:
        return str(remembered)
    return request.accept_languages.best_match(supported) or supported[0]


def _locale() -> str:
    return LOCALES.get(current_language(), current_language())


def _timezone() -> str:
    # Dates and times shown in the hall's own timezone (Babel's default would be UTC).
    return str(current_app.config.get("QMS_TIMEZONE", "Asia/Shanghai"))


def init_app(app: Flask) -> None:
    """Bind Flask-Babel and give templates the language helpers."""
    babel.init_app(
        app,
        locale_selector=_locale,
        timezone_selector=_timezone,
        default_translation_directories="translations",
    )

    @app.context_processor
    def _languages() -> dict[str, Any]:
        lang = current_language()
        return {
            "lang": lang,
            "page_lang": HTML_LANG.get(lang, lang),
            "hall_languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in languages()],
        }
