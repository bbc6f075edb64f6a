-- An image no product shows any more is deleted.
DELETE FROM images i
WHERE i.sha256 = %(sha256)s
  AND NOT EXISTS (SELECT 1 FROM products p WHERE p.image_sha256 = i.sha256);
