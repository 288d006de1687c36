"""The HTTP and WebSocket server: ``create_app(bot, settings)``."""

from soni.server.app import create_app
from soni.server.settings import ServerSettings

__all__ = ("ServerSettings", "create_app")
