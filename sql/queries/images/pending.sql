-- Products whose image needs a download: the wanted URL (an admin's override, else the marketplace's)
-- was never tried, or changed since, or failed over %(retry_after)s ago; and products that hold an
-- image although no URL is wanted any more (it is taken down).
SELECT p.id
FROM products p
LEFT JOIN image_downloads d ON d.product_id = p.id
WHERE p.active
  AND CASE
      WHEN coalesce(p.image_override_url, p.image_source_url) IS NULL THEN p.image_sha256 IS NOT NULL
      ELSE d.product_id IS NULL
           OR d.url <> coalesce(p.image_override_url, p.image_source_url)
           OR (d.error IS NOT NULL AND d.attempted_at < now() - %(retry_after)s::interval)
  END
ORDER BY p.id
LIMIT %(limit)s;
