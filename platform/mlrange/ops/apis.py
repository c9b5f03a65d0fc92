"""Health endpoint: database, broker configuration and the sandbox, as an operator sees them."""

from django.conf import settings
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from mlrange.labs import runner
from mlrange.ops.services import worker_heartbeats_fresh


class HealthApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Liveness and configuration of the platform",
        tags=["ops"],
        responses=inline_serializer(
            "Health",
            {
                "database": serializers.CharField(),
                "broker": serializers.CharField(),
                "sandbox": inline_serializer(
                    "SandboxHealth",
                    {
                        "isolation": serializers.ChoiceField(choices=runner.ISOLATION_MODES),
                        "description": serializers.CharField(),
                        "labs_available": serializers.BooleanField(),
                        "problem": serializers.CharField(allow_null=True),
                    },
                ),
                "workers": inline_serializer(
                    "WorkerHealth",
                    {
                        "worker": serializers.CharField(help_text="host:pid of a worker process"),
                        "seconds_ago": serializers.FloatField(help_text="since its last heartbeat"),
                        "isolation": serializers.CharField(),
                        "labs_available": serializers.BooleanField(),
                        "problem": serializers.CharField(allow_null=True),
                        "ready_kernels": serializers.DictField(child=serializers.IntegerField()),
                    },
                    many=True,
                ),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        broker = settings.CELERY_BROKER_URL.split("://", 1)[0]
        isolation = runner.isolation_mode()
        problem = runner.sandbox_problem()
        return Response(
            {
                "database": connection.vendor,
                "broker": broker,
                "sandbox": {
                    "isolation": isolation["mode"],
                    "description": isolation["description"],
                    "labs_available": problem is None,
                    "problem": problem,
                },
                "workers": worker_heartbeats_fresh(),
            }
        )
