// Package service is flexd's business logic: the Atlas rules for projects,
// Flex clusters, snapshots and restore jobs, on top of any flexd.Store. It
// implements the root service interfaces and returns *flexd.Error values that
// name what went wrong the way Atlas does. Long-running work (provisioning,
// snapshots, restores) is handed to an Engine, so the job engine can change
// without touching the rules or the handlers.
package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/credential"
)

// Config holds the service's tunables.
type Config struct {
	// MongoDBVersion is the version new clusters run (Atlas Flex: 8.0.x).
	MongoDBVersion string
	// ConnectionDomain is the DNS suffix of the standard connection strings
	// flexd hands out.
	ConnectionDomain string
	// SRVDomain is a DNS name under which SRV records for the clusters are
	// served (the data plane's to configure). Only then do clusters get a
	// standardSrv connection string: empty, they have none, rather than a
	// mongodb+srv:// name that resolves nowhere.
	SRVDomain string
	// DownloadTTL is how long a download link works (Atlas: 4 hours, see
	// AtlasDownloadTTL). Zero is honoured, not defaulted: the link has
	// expired by the time it is handed out, which lets users rehearse the
	// expired-link path.
	DownloadTTL time.Duration
	// DefaultOrgName names the organization created on first start.
	DefaultOrgName string
	// SecretCost is the bcrypt cost of service account secrets (default
	// credential.DefaultSecretCost); tests lower it to bcrypt's minimum.
	SecretCost int
	// InitialAccessList is what a new project's IP access list starts
	// with (flexd serve: the loopback range of the clusters' endpoints,
	// so that a fresh local setup connects); entries like any other.
	InitialAccessList []flexd.AccessListEntry
	// Access, if set, hears of the changes to database users and access
	// lists that must reach open connections (the data plane).
	Access flexd.AccessEnforcer
}

// AtlasDownloadTTL is how long Atlas keeps a snapshot download link working.
const AtlasDownloadTTL = 4 * time.Hour

func (c *Config) setDefaults() {
	if c.MongoDBVersion == "" {
		c.MongoDBVersion = "8.0.13"
	}
	if c.ConnectionDomain == "" {
		c.ConnectionDomain = "flexd.local"
	}
	if c.DefaultOrgName == "" {
		c.DefaultOrgName = "flexd"
	}
	if c.SecretCost == 0 {
		c.SecretCost = credential.DefaultSecretCost
	}
}

// Service implements flexd.OrganizationService, ProjectService,
// FlexClusterService and BackupService.
type Service struct {
	store  flexd.Store
	clock  flexd.Clock
	engine Engine
	cfg    Config
	// backends attaches external deployments (nil: the data plane is off).
	backends flexd.Backends

	defaultOrgID string
}

var (
	_ flexd.OrganizationService = (*Service)(nil)
	_ flexd.ProjectService      = (*Service)(nil)
	_ flexd.FlexClusterService  = (*Service)(nil)
	_ flexd.BackupService       = (*Service)(nil)
)

// New returns a service over store that hands background work to engine.
// A nil clock is the system clock.
func New(store flexd.Store, clock flexd.Clock, engine Engine, cfg Config) *Service {
	cfg.setDefaults()
	if clock == nil {
		clock = flexd.SystemClock{}
	}
	return &Service{store: store, clock: clock, engine: engine, cfg: cfg}
}

// Init makes sure the default organization exists (the oldest organization
// is the default) and remembers it. Call it once at start.
func (s *Service) Init(ctx context.Context) error {
	orgs, _, err := s.store.ListOrganizations(ctx, flexd.OrganizationFilter{}, flexd.Page{Num: 1, ItemsPerPage: 1})
	if err != nil {
		return fmt.Errorf("list organizations: %w", err)
	}
	if len(orgs) > 0 {
		s.defaultOrgID = orgs[0].ID
		return nil
	}
	now := s.clock.Now()
	o := &flexd.Organization{ID: flexd.NewID(now), Name: s.cfg.DefaultOrgName, Created: now}
	if err := s.store.CreateOrganization(ctx, o); err != nil {
		return fmt.Errorf("create default organization: %w", err)
	}
	s.defaultOrgID = o.ID
	return nil
}

// DefaultOrgID is the organization created on first start.
func (s *Service) DefaultOrgID() string { return s.defaultOrgID }

// Store gives wiring code (bootstrap, drills) the store the service uses.
func (s *Service) Store() flexd.Store { return s.store }

// internal wraps an unexpected storage failure; the transport logs it and
// answers 500 without the details.
func internal(op string, err error) error {
	return fmt.Errorf("%s: %w", op, err)
}

func isNotFound(err error) bool { return errors.Is(err, flexd.ErrNotFound) }
func isConflict(err error) bool { return errors.Is(err, flexd.ErrConflict) }
