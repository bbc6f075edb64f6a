-- Registering an address that has an account answers as for a new one, and e-mails the address's
-- owner instead (how to sign in or reset the password): a third kind of account e-mail.
ALTER TABLE emails DROP CONSTRAINT emails_kind_check;
ALTER TABLE emails ADD CONSTRAINT emails_kind_check
    CHECK (kind IN ('verify_email', 'password_reset', 'account_exists', 'alert'));
