# The application image of docker-compose: init, api, worker, scheduler and dashboard share it.
# Configuration comes from the environment (docker-compose.yml, .env); the image holds no .env.

# The web dashboard, built with Node from its lockfile; the API serves the result at / (service/web.py).
FROM node:20-bookworm-slim AS web
WORKDIR /build/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web ./
RUN npm run build -- --outDir /out/web/dist --emptyOutDir

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
# What the processes read at run time: the code, its SQL, the migrations and the seed catalog.
COPY wsgi.py gunicorn.conf.py ./
COPY service ./service
COPY jobs ./jobs
COPY sql ./sql
COPY migrations ./migrations
COPY data ./data
COPY --from=web /out/web ./web
# Compiled once here: every healthcheck starts a Python process, and the app's user cannot write /app.
RUN python -m compileall -q service jobs wsgi.py gunicorn.conf.py \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin boxpro
USER boxpro
EXPOSE 8000 9181
CMD ["gunicorn", "--workers", "4", "--bind", "0.0.0.0:8000", "wsgi:app"]
