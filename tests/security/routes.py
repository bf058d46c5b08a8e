"""Every API route, read from the URL configuration itself (so a new route cannot escape the tests)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

SKIPPED_METHODS = {"options", "head", "trace"}
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class ApiRoute:
    name: str
    pattern: str  # e.g. "api/orders/<int:order_id>/"
    converters: tuple[str, ...]  # the keyword arguments taken from the path
    methods: tuple[str, ...]  # the HTTP methods the view implements

    def url(self, **kwargs) -> str:
        path = self.pattern
        for name, value in kwargs.items():
            for kind in ("int", "str", "slug", "uuid", "path", ""):
                token = f"<{kind}:{name}>" if kind else f"<{name}>"
                path = path.replace(token, str(value))
        assert "<" not in path, f"{self.name}: missing keyword arguments for {path}"
        return "/" + path


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
