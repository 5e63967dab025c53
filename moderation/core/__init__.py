"""The platform core: tenants and keys, auth and throttling, media intake, storage and fetch, the job
lifecycle, webhooks, audit, errors and API plumbing. Imports no feature (see docs/architecture.md)."""
