"""The ceiling of `make bench-api`: a bare Flask endpoint returning a fixed body from Redis, served by
gunicorn exactly as the API is. The API's cached leaderboard is compared with it in the same run."""

from __future__ import annotations

import os

import redis
from flask import Flask, Response

BODY_KEY = "boxpro:bench:ceiling"

app = Flask(__name__)
client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:56379/2"))


@app.get("/ceiling")
def ceiling() -> Response:
    return Response(client.get(BODY_KEY), mimetype="application/json")


@app.get("/health")
def health() -> Response:
    return Response(b'{"status":"ok"}', mimetype="application/json")
