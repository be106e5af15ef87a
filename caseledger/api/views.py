"""Plain Django views of the API app (outside ninja)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

NO_SUCH_ROUTE = "No such API route."


@csrf_exempt
def not_found(request: HttpRequest) -> JsonResponse:
    """Any path under /api/ that no route serves, whatever the method."""
    return JsonResponse(
        {"error": {"code": "not_found", "message": NO_SUCH_ROUTE, "field": None}}, status=404
    )
