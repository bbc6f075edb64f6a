-- Every request visible so far, as one: which ones (a request committed later is not among them, even
-- with a lower id), the earliest day, and whether any asks to re-summarise or re-infer.
SELECT array_agg(id ORDER BY id), min(from_day), bool_or(resummarise), bool_or(reinfer) FROM pipeline_requests;
