"""The web pages of the service (verification, citizens and enterprises, department console)."""

from api.web.pages import mount_web, router

__all__ = ["mount_web", "router"]
