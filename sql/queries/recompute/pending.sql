-- Every request so far, as one: the earliest day, and whether any asks to re-summarise or re-infer.
SELECT max(id), min(from_day), bool_or(resummarise), bool_or(reinfer), count(*) FROM pipeline_requests;
