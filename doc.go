// Package flexd holds the domain of a self-hosted Atlas Administration API v2
// server for Flex clusters: organizations, projects, Flex clusters, their
// backup snapshots and restore jobs, the Atlas error model, and the service and
// storage contracts that the transport (atlasapi), storage (sqlite, postgres)
// and job (jobs) packages implement or consume.
//
// Nothing in this package knows about HTTP or SQL.
package flexd
