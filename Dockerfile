# The application image for docker-compose: API, worker, scheduler and dashboard share it.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY wsgi.py gunicorn.conf.py pyproject.toml ./
COPY service ./service
COPY jobs ./jobs
COPY sql ./sql
COPY migrations ./migrations
RUN useradd --system --uid 10001 boxpro
USER boxpro
EXPOSE 8000
CMD ["gunicorn", "--workers", "4", "--bind", "0.0.0.0:8000", "wsgi:app"]
