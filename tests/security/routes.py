"""Every API route, read from the URL configuration itself (so a new route cannot escape the tests)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

SKIPPED_METHODS = {"options", "head", "trace"}
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Path converters that carry a parameter, not an object's id or code (``<month:…>``, YYYY-MM): the
# authorization matrix keeps them as given instead of pointing them at a missing object.
NOT_AN_OBJECT = frozenset({"month"})


@dataclass(frozen=True)
class ApiRoute:
    name: str
    pattern: str  # e.g. "api/orders/<int:order_id>/"
    converters: tuple[str, ...]  # the keyword arguments taken from the path
    methods: tuple[str, ...]  # the HTTP methods the view implements

    def url(self, **kwargs) -> str:
        path = self.pattern
        for name, value in kwargs.items():
            path = re.sub(rf"<(?:\w+:)?{re.escape(name)}>", lambda _m, value=value: str(value), path)
        assert "<" not in path, f"{self.name}: missing keyword arguments for {path}"
        return "/" + path

    def converter(self, name: str) -> str:
        """The converter of path parameter ``name`` ("int", "str", "month", ...)."""
        match = re.search(rf"<(?:(\w+):)?{re.escape(name)}>", self.pattern)
        return (match.group(1) or "str") if match else ""

    @property
    def object_params(self) -> tuple[str, ...]:
        """The path parameters that name an object (not a month)."""
        return tuple(name for name in self.converters if self.converter(name) not in NOT_AN_OBJECT)

    def sample(self, value=1) -> dict:
        """Path parameters that match the route: ``value`` for the ids, this month for a month."""
        month = timezone.localdate().strftime("%Y-%m")
        return {name: month if self.converter(name) == "month" else value for name in self.converters}


def _walk(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def _methods(callback) -> tuple[str, ...]:
    view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view is None:
        return ("GET",)
    names = getattr(view, "http_method_names", ["get", "post", "put", "patch", "delete"])
    return tuple(sorted(m.upper() for m in names if m not in SKIPPED_METHODS and hasattr(view, m)))


def api_routes() -> list[ApiRoute]:
    routes = []
    for path, pattern in _walk(get_resolver()):
        if not path.startswith("api/"):
            continue
        converters = tuple(getattr(pattern.pattern, "converters", {}) or {})
        routes.append(ApiRoute(name=pattern.name or path, pattern=path, converters=converters,
                               methods=_methods(pattern.callback)))
    names = [r.name for r in routes]
    assert len(names) == len(set(names)), f"API route names must be unique: {sorted(names)}"
    return routes


def object_routes() -> list[ApiRoute]:
    """Routes that name an object (an id or a code) in their path."""
    return [route for route in api_routes() if route.converters]


def list_routes() -> list[ApiRoute]:
    return [route for route in api_routes() if not route.converters and "GET" in route.methods]


def write_operations() -> list[tuple[ApiRoute, str]]:
    return [(route, method) for route in api_routes() for method in route.methods
            if method in ("POST", "PUT", "PATCH")]
