"""The one exception the package raises when work cannot continue; cli.py turns it into a clean message."""

from __future__ import annotations


class ShixiangError(Exception):
    """Work cannot continue (bad workspace, bad configuration). The message is Chinese and shown as is."""
