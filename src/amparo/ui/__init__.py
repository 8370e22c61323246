"""Reviewer web UI (server-rendered; mounted at /ui)."""

from amparo.ui.routes import build_ui_router

__all__ = ["build_ui_router"]
