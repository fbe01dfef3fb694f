-- 0040_health_probe: one row that /readyz rewrites, so that readiness
-- reflects whether writes succeed (a full disk, a read-only database),
-- not only whether the database answers.
CREATE TABLE health_probe (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL
);
