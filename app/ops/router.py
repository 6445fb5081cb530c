"""/healthz (the process is up), /readyz (it can serve), /metrics (Prometheus)."""

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.db import get_engine
from app.ops import service

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "A dependency is down or the schema is not at head."}})
async def readyz() -> JSONResponse:
    database = await service.check_database(get_engine())
    redis = await service.check_redis()
    ready = bool(database["ok"]) and bool(redis["ok"])
    workers = await service.check_worker_lag(get_engine()) if database["ok"] else {}
    body = {"status": "ready" if ready else "not_ready", "database": database, "redis": redis, "workers": workers}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response)
async def metrics() -> Response:
    """This process's metrics, then the workers' counters summed over every worker (`dondoc_workers_*`)."""
    return Response(generate_latest() + await service.worker_metrics_exposition(), media_type=CONTENT_TYPE_LATEST)
