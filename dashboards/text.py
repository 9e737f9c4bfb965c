"""Bilingual labels: Chinese with English (``zh``) or English only (``en``), per
``ENVMON_DASHBOARD_LANGUAGE``."""

from __future__ import annotations

from typing import Literal

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")


class Say:
    """``say("城市概览", "City overview")``: ``城市概览 City overview`` in zh, ``City overview``
    in en."""

    def __init__(self, language: Language) -> None:
        self.language = language

    def __call__(self, zh: str, en: str) -> str:
        return f"{zh} {en}" if self.language == "zh" else en

    def pick(self, zh: str, en: str) -> str:
        """One of the two: for fields that hold a name in each language (``name_zh``)."""
        return zh if self.language == "zh" else en
