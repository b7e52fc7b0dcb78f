"""The service's ASGI middleware, one module per concern: :mod:`api.middleware.guard` (request
ids, limits, deadlines, audit rows, the access log, what escapes the application) and
:mod:`api.middleware.index_front` (verification by hash answered before routing)."""

from api.middleware.guard import (
    MULTIPART_OVERHEAD,
    UNMATCHED,
    AuditNote,
    GuardMiddleware,
    JsonDepthGauge,
    JsonTooDeep,
    RouteTemplates,
)
from api.middleware.index_front import IndexFront

__all__ = [
    "MULTIPART_OVERHEAD",
    "UNMATCHED",
    "AuditNote",
    "GuardMiddleware",
    "IndexFront",
    "JsonDepthGauge",
    "JsonTooDeep",
    "RouteTemplates",
]
