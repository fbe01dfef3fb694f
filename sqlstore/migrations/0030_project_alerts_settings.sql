-- withDefaultAlertsSettings as the create gave it (Atlas's default: true).
-- Projects created before flexd kept it were created without saying, so
-- they get the default.
ALTER TABLE projects ADD COLUMN with_default_alerts_settings BOOLEAN NOT NULL DEFAULT TRUE;
