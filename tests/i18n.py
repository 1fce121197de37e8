"""The translators tests render with: English unless a test is about another language."""

from bot.ui.i18n import Languages, translator

EN = translator("en")
FR = translator("fr")
# Every surface in English, with no Slack lookup of anyone's language.
ENGLISH = Languages("en")
