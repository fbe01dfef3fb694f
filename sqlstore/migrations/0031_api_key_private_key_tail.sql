-- The last 12 characters of an API key's private key: Atlas shows every
-- read after creation as "********-****-****-" + these. Keys created
-- before flexd kept them cannot get them back (only the HA1 values were
-- kept), so they stay empty and reads show no privateKey; the admin key
-- from FLEXD_ADMIN_PRIVATE_KEY gets its tail at the next start.
ALTER TABLE api_keys ADD COLUMN private_key_tail TEXT NOT NULL DEFAULT '';
