SELECT count(*) OVER () AS total, sold_at, marketplace, unit_price, shipping, quantity, basis
FROM sales
WHERE product_id = %(product_id)s
  AND (%(marketplace)s::text IS NULL OR marketplace = %(marketplace)s)
  AND (%(basis)s::text IS NULL OR basis = %(basis)s)
  AND sold_at >= %(from)s AND sold_at < %(to)s
ORDER BY sold_at DESC, sale_key
LIMIT %(limit)s OFFSET %(offset)s;
