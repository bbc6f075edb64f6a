-- A product mapped by a catalog look-up. An existing source (mapped by hand or by the catalog CSV) wins.
INSERT INTO product_sources (product_id, marketplace, external_id)
VALUES (%(product_id)s, %(marketplace)s, %(external_id)s)
ON CONFLICT (product_id, marketplace) DO NOTHING;
