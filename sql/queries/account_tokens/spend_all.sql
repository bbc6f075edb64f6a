-- After a reset, the account's other outstanding tokens of that purpose stop working too.
UPDATE account_tokens SET used_at = now()
WHERE user_id = %(user_id)s AND purpose = %(purpose)s AND used_at IS NULL;
