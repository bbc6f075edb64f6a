-- Units already recorded per listing: eBay reports a listing's running total of units sold, so only
-- the increase since the last report is a new sale.
SELECT listing_id, sum(quantity)::integer AS units, max(sold_at) AS last_sold_at
FROM sales
WHERE marketplace = %(marketplace)s AND product_id = %(product_id)s AND listing_id = ANY (%(listing_ids)s::text[])
GROUP BY listing_id;
