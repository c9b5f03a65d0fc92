"""Health endpoint: database, broker configuration and the sandbox, as an operator sees them."""

from django.conf import settings
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class HealthApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Liveness and configuration of the platform",
        tags=["ops"],
        responses=inline_serializer(
            "Health",
            {"database": serializers.CharField(), "broker": serializers.CharField()},
        ),
    )
    def get(self, request: Request) -> Response:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        broker = settings.CELERY_BROKER_URL.split("://", 1)[0]
        return Response({"database": connection.vendor, "broker": broker})
