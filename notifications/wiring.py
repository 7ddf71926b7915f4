"""Builders both composition roots use: the category helpers and the webhook policy."""

from __future__ import annotations

from collections.abc import Callable

from notifications.channels.webhook import WebhookPolicy
from notifications.config import NotifierConfig
from shared.taxonomy import Taxonomy


def webhook_policy(config: NotifierConfig, development: bool) -> WebhookPolicy:
    """https only outside development; private networks only when explicitly allowed."""
    return WebhookPolicy(
        allow_private=config.webhooks_allow_private_networks,
        require_https=not development,
        connect_timeout_s=config.webhook_connect_timeout_s,
        read_timeout_s=config.webhook_read_timeout_s,
    )


def lineage(taxonomy: Taxonomy) -> Callable[[str], list[str]]:
    """A category's ancestors (none for a category the tree does not know)."""
    return lambda category: taxonomy.ancestors(category) if category in taxonomy else []


def category_label(taxonomy: Taxonomy) -> Callable[[str, str], str]:
    """A category's label in a language (its id if the tree does not know it)."""
    return lambda category, language: (
        taxonomy.label(category, language) if category in taxonomy else category
    )


def category_choices(taxonomy: Taxonomy) -> Callable[[str], list[tuple[str, str]]]:
    """Every category as a choice, indented by depth, in a language, with its EWC code (the
    settings page's filter finds a category by its words or its code)."""

    def choices(language: str) -> list[tuple[str, str]]:
        return [
            (
                c.id,
                "\u00a0\u00a0" * c.depth
                + taxonomy.label(c.id, language)
                + (f" ({c.ewc})" if c.ewc else ""),
            )
            for c in taxonomy.all()
        ]

    return choices
