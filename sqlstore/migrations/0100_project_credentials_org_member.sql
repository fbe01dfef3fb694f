-- Atlas makes every API key and service account created through a project
-- endpoint an Organization Member of the project's organization. flexd
-- gave them no organization role until now; they are exactly the
-- credentials with none (an organization endpoint and the bootstrap never
-- store an empty list: creating or changing organization roles requires
-- at least one), whether or not they are still assigned to a project.
-- Organization Member reads the organization and its credentials and
-- reaches no project the credential holds no role in.
UPDATE api_keys SET org_roles = '["ORG_MEMBER"]' WHERE org_roles = '[]';
UPDATE service_accounts SET org_roles = '["ORG_MEMBER"]' WHERE org_roles = '[]';
