-- After an inference setting changed: listing changes and inferred sales derived again from a day on.
SELECT marketplace, inferred_sales FROM reinfer_listing_changes(%(from)s::timestamptz);
