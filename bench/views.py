"""The bench's baselines: bare Django views, no DRF, no auth (bench/checkout.py, bench/http.py)."""

import json
import os
from pathlib import Path

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

TABLE = "bench_row"
CREATE_TABLE = f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, payload text NOT NULL, " \
               "created_at timestamptz NOT NULL DEFAULT now())"


def constant(request):
    return JsonResponse({"ok": True, "service": "cunbo"})


@csrf_exempt
def insert(request):
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} (payload) VALUES (%s) RETURNING id", [request.body[:200].decode()])
        row_id = cursor.fetchone()[0]
    return JsonResponse({"id": row_id}, status=201)


_floors: dict | None = None


def floor(request, name: str):
    """The floor of one public read (bench/http.py): the SQL that endpoint ran, replayed as it was
    captured, and the endpoint's JSON through JsonResponse — what is left without the framework."""
    global _floors
    if _floors is None:
        _floors = json.loads(Path(os.environ["BENCH_FLOORS"]).read_text())
    entry = _floors[name]
    with connection.cursor() as cursor:
        for sql in entry["queries"]:
            cursor.execute(sql)
            if cursor.description is not None:
                cursor.fetchall()
    return JsonResponse(entry["body"], safe=False, json_dumps_params={"ensure_ascii": False})
