-- Accounts by e-mail (issue 13, item 8): verified addresses, opting in to alert e-mails, single-use
-- tokens sent by e-mail (verification, password reset), and the outbox of every e-mail to send.

-- When the user proved they read this address (a verification link, or a password reset by e-mail).
ALTER TABLE users
    ADD COLUMN email_verified_at timestamptz,
    ADD COLUMN alert_emails      boolean NOT NULL DEFAULT false;

-- A token travels only in the e-mail; the database keeps its sha256, so a leaked table opens nothing.
-- Single use (used_at), expiring (expires_at), bound to the address it was sent to.
CREATE TABLE account_tokens (
    token_hash bytea PRIMARY KEY,
    user_id    integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text NOT NULL CHECK (purpose IN ('verify_email', 'password_reset')),
    email      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose) WHERE used_at IS NULL;

-- The outbox: one row per e-mail, sent by the jobs.mail.send_email RQ job (retried), so a slow or
-- failing SMTP server never slows or fails a request, and every failure stays recorded here.
-- An alert e-mail is unique per notification: a firing is mailed once, whatever retries happen.
CREATE TABLE emails (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('verify_email', 'password_reset', 'alert')),
    notification_id bigint UNIQUE REFERENCES notifications (id) ON DELETE CASCADE,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    enqueued_at     timestamptz,
    finished_at     timestamptz,
    CHECK ((kind = 'alert') = (notification_id IS NOT NULL))
);
CREATE INDEX emails_pending ON emails (id) WHERE status = 'pending';
CREATE INDEX emails_user ON emails (user_id, id DESC);
