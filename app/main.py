"""The ASGI application: routers, error handlers and middleware wired together."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from app.assignments.router import router as assignments_router
from app.audit.router import router as audit_router
from app.auth.keycache import key_cache
from app.auth.router import router as keys_router
from app.calendar.router import router as calendar_router
from app.db import dispose_engine
from app.directives.router import router as directives_router
from app.escalation.router import router as escalation_router
from app.events.router import router as events_router
from app.idempotency.middleware import IdempotencyMiddleware
from app.imports.router import router as imports_router
from app.logs import configure_logging
from app.middleware import API_PREFIX, RequestContext
from app.ops.heap import freeze_startup_heap
from app.ops.router import router as ops_router
from app.problems import install_problem_handlers
from app.reports.router import router as reports_router
from app.settings import driver_database_url, get_settings
from app.stats.router import router as stats_router
from app.units.router import router as units_router
from app.webhooks.router import deliveries_router as webhook_deliveries_router
from app.webhooks.router import router as webhooks_router

# Matched in this order, one route at a time: the routers clients call most come first.
V1_ROUTERS = (
    assignments_router,
    directives_router,
    reports_router,
    stats_router,
    events_router,
    units_router,
    keys_router,
    audit_router,
    webhooks_router,
    webhook_deliveries_router,
    escalation_router,
    calendar_router,
    imports_router,
)

DESCRIPTION = """Dondoc (đôn đốc) turns a health department's directives into tracked work:
tasks, assignments, reports, deadlines and escalation. Authenticate with
`Authorization: Bearer ddk_...`; every key sees only its unit's subtree.
Errors are RFC 9457 `application/problem+json`."""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    await key_cache.start(driver_database_url(settings.database_url), settings.auth_cache_ttl_s)
    freeze_startup_heap()
    try:
        yield
    finally:
        await key_cache.stop()
        await dispose_engine()


# Dondoc's metrics are Prometheus's (GET /metrics) and it configures no OpenTelemetry provider, so
# FastAPI's built-in OpenTelemetry hooks are off rather than asking, on every request, whether one
# has appeared (2-3% of a single read's CPU).
NO_TELEMETRY = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


def _add_routes(app: FastAPI, router: APIRouter, prefix: str = "") -> None:
    """Put a domain router's routes on the app itself, under `prefix`.

    Not `include_router`: that keeps the router as a nested route which FastAPI matches first as a
    whole and then again route by route, and walking that wrapper cost a simple read about 7% of
    its CPU. Re-adding each route under the prefix (what `include_router` itself did in earlier
    FastAPI versions) gives the app a flat list of the same routes, paths, tags and OpenAPI document.
    """
    for route in router.routes:
        assert isinstance(route, APIRoute), "domain routers hold only API routes"
        app.router.add_api_route(
            prefix + route.path, route.endpoint, response_model=route.response_model, status_code=route.status_code,
            tags=list(route.tags), dependencies=list(route.dependencies), summary=route.summary,
            description=route.description, response_description=route.response_description, responses=route.responses,
            deprecated=route.deprecated, methods=route.methods, operation_id=route.operation_id,
            response_model_include=route.response_model_include, response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none, include_in_schema=route.include_in_schema,
            response_class=route.response_class, name=route.name, callbacks=route.callbacks,
            openapi_extra=route.openapi_extra, generate_unique_id_function=route.generate_unique_id_function,
            strict_content_type=route.strict_content_type,
        )


def create_app() -> FastAPI:
    settings = get_settings()
    configure_logging(settings.log_level)
    app = FastAPI(
        title="Dondoc",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        telemetry=NO_TELEMETRY,
    )
    install_problem_handlers(app)
    # Operations first: probes are the most frequent requests and should not walk the API's routes.
    _add_routes(app, ops_router)
    for router in V1_ROUTERS:
        _add_routes(app, router, API_PREFIX)
    # Added last = outermost: the size limit and request id apply before an idempotent replay.
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(RequestContext, max_body_bytes=settings.max_body_bytes, bulk_body_bytes=settings.import_max_bytes)
    return app


app = create_app()
