-- Tenant display names from the platform database, kept by each sla_uptime run for the SLA pages
-- (tenant page, statement): the pages read only the results store, never the platform database.
CREATE TABLE IF NOT EXISTS reliability.sla_tenant_names (
    tenant      text PRIMARY KEY,
    name        text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
