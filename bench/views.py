"""The two baselines of the checkout benchmark: bare Django views, no DRF, no auth."""

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
