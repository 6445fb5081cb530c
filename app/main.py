"""The ASGI application: routers, error handlers and middleware wired together."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

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


def create_app() -> FastAPI:
    settings = get_settings()
    configure_logging(settings.log_level)
    app = FastAPI(
        title="Dondoc",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    # Operations first: probes are the most frequent requests and should not walk the API's routes.
    app.include_router(ops_router)
    # Each domain router straight onto the app under /v1: FastAPI matches nested routers level by
    # level and more than once, which cost more than the endpoint itself on the cheapest reads.
    for router in V1_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    # Added last = outermost: the size limit and request id apply before an idempotent replay.
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(RequestContext, max_body_bytes=settings.max_body_bytes, bulk_body_bytes=settings.import_max_bytes)
    return app


app = create_app()
