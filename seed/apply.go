package seed

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/credential"
)

// Factory builds projects and clusters the way the API creates them,
// validated and with Atlas's defaults (service.Service implements it).
type Factory interface {
	NewProject(c flexd.ProjectCreate, now time.Time) (*flexd.Project, error)
	NewFlexCluster(groupID string, c flexd.FlexClusterCreate, now time.Time) (*flexd.FlexCluster, error)
}

// Lifecycle is what seeding needs of the lifecycle engine (jobs.Engine):
// to take on a cluster stored IDLE (its snapshot schedule and retention)
// and to record a completed snapshot with its artifact, captured the way a
// snapshot run captures one.
type Lifecycle interface {
	Adopt(ctx context.Context, tx flexd.Tx, c *flexd.FlexCluster) error
	RecordSnapshot(ctx context.Context, tx flexd.Tx, c *flexd.FlexCluster, sn *flexd.Snapshot) error
}

// Config is what Apply works through.
type Config struct {
	Store     flexd.Store
	Factory   Factory
	Lifecycle Lifecycle
	Clock     flexd.Clock // nil: the system clock
	// SecretCost is the bcrypt cost of client secrets (default
	// credential.DefaultSecretCost).
	SecretCost int
}

// Result counts what Apply wrote: nothing, when the store already held
// what the file says.
type Result struct {
	Created int
	Updated int
}

// applier carries one Apply.
type applier struct {
	Config
	ctx context.Context
	now time.Time
	res Result
	// projectIDs maps an organization of the file and a project name to
	// the project's id in the store.
	projectIDs map[*Organization]map[string]string
}

// Apply makes the store hold what f says. Everything that can be checked
// without writing is checked first, so a bad file writes nothing.
// Organizations, projects and credentials are written one by one (the
// store's unit of work does not cover them yet); the clusters with their
// snapshots are one unit of work. Each step looks before it writes, so a
// second Apply of the same file writes nothing.
func Apply(ctx context.Context, f *File, cfg Config) (Result, error) {
	if cfg.Clock == nil {
		cfg.Clock = flexd.SystemClock{}
	}
	if cfg.SecretCost == 0 {
		cfg.SecretCost = credential.DefaultSecretCost
	}
	a := &applier{Config: cfg, ctx: ctx, now: cfg.Clock.Now().UTC().Truncate(time.Second),
		projectIDs: map[*Organization]map[string]string{}}
	if err := a.precheck(f); err != nil {
		return a.res, err
	}
	for _, org := range f.Organizations {
		if err := a.organization(org); err != nil {
			return a.res, err
		}
	}
	for _, org := range f.Organizations {
		for _, k := range org.APIKeys {
			if err := a.apiKey(org, k); err != nil {
				return a.res, err
			}
		}
		for _, sa := range org.ServiceAccounts {
			if err := a.serviceAccount(org, sa); err != nil {
				return a.res, err
			}
		}
	}
	return a.res, a.clusters(f)
}

// placeholderID stands for a project id not known before writing, while
// the precheck validates what depends on it.
const placeholderID = "000000000000000000000000"

// precheck validates what the service and the clock decide: project and
// cluster fields, and snapshot times, which may not lie ahead.
func (a *applier) precheck(f *File) error {
	for _, org := range f.Organizations {
		for _, p := range org.Projects {
			if _, err := a.Factory.NewProject(flexd.ProjectCreate{Name: p.Name, OrgID: placeholderID, Tags: p.Tags}, a.now); err != nil {
				return fieldOf(p.at, err)
			}
			for _, c := range p.Clusters {
				if _, err := a.Factory.NewFlexCluster(placeholderID, c.FlexClusterCreate, a.now); err != nil {
					return fieldOf(c.at, err)
				}
				if c.CreateDate.After(a.now) {
					return c.at.at("createDate").errorf("lies ahead of the clock (%s)", a.now.Format(time.RFC3339))
				}
				for _, s := range c.Snapshots {
					if s.FinishTime.After(a.now) {
						return s.at.at("finishTime").errorf("lies ahead of the clock (%s)", a.now.Format(time.RFC3339))
					}
				}
			}
		}
	}
	return nil
}

// fieldOf places a validation error of the service at the field it is
// about.
func fieldOf(o *object, err error) error {
	var fe *flexd.Error
	if !errors.As(err, &fe) {
		return o.self().errorf("%v", err)
	}
	name := "name"
	switch fe.Code {
	case "INVALID_PROVIDER":
		name = "providerSettings.backingProviderName"
	case "INVALID_REGION":
		name = "providerSettings.regionName"
	case "INVALID_ATTRIBUTE":
		name = "tags"
	}
	where := o.at(name)
	if name != "name" && name != "tags" {
		ps := o.vals["providerSettings"]
		where = at{o.file, ps.Line, field(o.path, name)}
		for i := 0; i+1 < len(ps.Content); i += 2 {
			if field("providerSettings", ps.Content[i].Value) == name {
				where.line = ps.Content[i+1].Line
			}
		}
	}
	return where.errorf("%s", fe.Detail)
}

// organization finds or creates org, then its projects.
func (a *applier) organization(org *Organization) error {
	var found *flexd.Organization
	if org.ID != "" {
		o, err := a.Store.GetOrganization(a.ctx, org.ID)
		if err != nil && !errors.Is(err, flexd.ErrNotFound) {
			return err
		}
		found = o
	} else {
		os, _, err := a.Store.ListOrganizations(a.ctx, flexd.OrganizationFilter{Name: org.Name}, flexd.Page{Num: 1, ItemsPerPage: 1})
		if err != nil {
			return err
		}
		if len(os) > 0 {
			found = &os[0]
		}
	}
	if found == nil {
		o := &flexd.Organization{ID: org.ID, Name: org.Name, Created: a.now}
		if o.ID == "" {
			o.ID = flexd.NewID(a.now)
		}
		if err := a.Store.CreateOrganization(a.ctx, o); err != nil {
			return org.at.self().errorf("create organization: %v", err)
		}
		a.res.Created++
		found = o
	}
	org.ID = found.ID
	a.projectIDs[org] = map[string]string{}
	for _, p := range org.Projects {
		id, err := a.project(org, p)
		if err != nil {
			return err
		}
		a.projectIDs[org][p.Name] = id
	}
	return nil
}

// project finds or creates p in org and returns its id.
func (a *applier) project(org *Organization, p *Project) (string, error) {
	if p.ID != "" {
		found, err := a.Store.GetProject(a.ctx, p.ID)
		if err == nil {
			if found.OrgID != org.ID {
				return "", p.at.at("id").errorf("project %s belongs to organization %s, not %s", p.ID, found.OrgID, org.ID)
			}
			return found.ID, nil
		}
		if !errors.Is(err, flexd.ErrNotFound) {
			return "", err
		}
	} else {
		ps, _, err := a.Store.ListProjects(a.ctx, flexd.ProjectFilter{OrgID: org.ID, Name: p.Name}, flexd.Page{Num: 1, ItemsPerPage: 1})
		if err != nil {
			return "", err
		}
		if len(ps) > 0 {
			return ps[0].ID, nil
		}
	}
	np, err := a.Factory.NewProject(flexd.ProjectCreate{Name: p.Name, OrgID: org.ID, Tags: p.Tags}, a.now)
	if err != nil {
		return "", fieldOf(p.at, err)
	}
	if p.ID != "" {
		np.ID = p.ID
	}
	if err := a.Store.CreateProject(a.ctx, np); err != nil {
		if errors.Is(err, flexd.ErrConflict) {
			return "", p.at.at("name").errorf("organization %s has a project named %q with another id", org.ID, p.Name)
		}
		return "", p.at.self().errorf("create project: %v", err)
	}
	a.res.Created++
	return np.ID, nil
}

// grants turns a principal's roles of the file into store grants.
func (a *applier) grants(org *Organization, roles []flexd.Role, projects []Grant) flexd.Grants {
	g := flexd.Grants{OrgRoles: slices.Clone(roles)}
	for _, pg := range projects {
		g.Projects = append(g.Projects, flexd.ProjectRoles{GroupID: a.projectIDs[org][pg.Project], Roles: slices.Clone(pg.Roles)})
	}
	slices.SortFunc(g.Projects, func(x, y flexd.ProjectRoles) int {
		if x.GroupID < y.GroupID {
			return -1
		}
		if x.GroupID > y.GroupID {
			return 1
		}
		return 0
	})
	return g
}

// sameRoles compares role sets, whatever their order.
func sameRoles(x, y []flexd.Role) bool {
	x, y = slices.Clone(x), slices.Clone(y)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// apiKey creates k, or makes the stored key match it: description,
// organization roles, credentials and roles in the projects the file
// names (other project assignments stay).
func (a *applier) apiKey(org *Organization, k *APIKey) error {
	g := a.grants(org, k.Roles, k.Projects)
	creds := k.credentials()
	found, err := a.Store.GetAPIKeyByPublicKey(a.ctx, k.PublicKey)
	switch {
	case errors.Is(err, flexd.ErrNotFound):
		nk := &flexd.APIKey{ID: flexd.NewID(a.now), OrgID: org.ID, PublicKey: k.PublicKey, Desc: k.Description,
			Grants: g, HA1MD5: creds.HA1MD5, HA1SHA256: creds.HA1SHA256, PrivateKeyTail: creds.PrivateKeyTail, Created: a.now}
		if err := a.Store.CreateAPIKey(a.ctx, nk); err != nil {
			return k.at.self().errorf("create API key: %v", err)
		}
		a.res.Created++
		return a.instanceAdministrator(k.at, nk.ID, k.InstanceAdministrator)
	case err != nil:
		return err
	}
	if found.OrgID != org.ID {
		return k.at.at("publicKey").errorf("API key %s belongs to organization %s, not %s", k.PublicKey, found.OrgID, org.ID)
	}
	var c flexd.APIKeyChange
	if found.Desc != k.Description {
		c.Desc = &k.Description
	}
	if !sameRoles(found.OrgRoles, g.OrgRoles) {
		c.OrgRoles = &g.OrgRoles
	}
	if found.HA1MD5 != creds.HA1MD5 || found.HA1SHA256 != creds.HA1SHA256 || found.PrivateKeyTail != creds.PrivateKeyTail {
		c.Credentials = &creds
	}
	if c != (flexd.APIKeyChange{}) {
		if err := a.Store.UpdateAPIKey(a.ctx, found.ID, c); err != nil {
			return k.at.self().errorf("update API key: %v", err)
		}
		a.res.Updated++
	}
	for _, pr := range g.Projects {
		if sameRoles(found.RolesIn(pr.GroupID), pr.Roles) {
			continue
		}
		if err := a.Store.SetAPIKeyProjectRoles(a.ctx, found.ID, pr.GroupID, pr.Roles); err != nil {
			return k.at.at("projects").errorf("grant project roles: %v", err)
		}
		a.res.Updated++
	}
	return a.instanceAdministrator(k.at, found.ID, k.InstanceAdministrator)
}

// serviceAccount creates sa, or makes the stored account match it, as
// apiKey does; its secrets are replaced only when none of the unexpired
// ones is the file's.
func (a *applier) serviceAccount(org *Organization, sa *ServiceAccount) error {
	g := a.grants(org, sa.Roles, sa.Projects)
	found, err := a.Store.GetServiceAccount(a.ctx, sa.ClientID)
	switch {
	case errors.Is(err, flexd.ErrNotFound):
		sec, err := a.secret(sa)
		if err != nil {
			return err
		}
		na := &flexd.ServiceAccount{ClientID: sa.ClientID, OrgID: org.ID, Name: sa.Name, Description: sa.Description,
			Grants: g, CreatedAt: a.now, Secrets: []flexd.ServiceAccountSecret{*sec}}
		if err := a.Store.CreateServiceAccount(a.ctx, na); err != nil {
			return sa.at.self().errorf("create service account: %v", err)
		}
		a.res.Created++
		return a.instanceAdministrator(sa.at, sa.ClientID, sa.InstanceAdministrator)
	case err != nil:
		return err
	}
	if found.OrgID != org.ID {
		return sa.at.at("clientId").errorf("service account %s belongs to organization %s, not %s", sa.ClientID, found.OrgID, org.ID)
	}
	var c flexd.ServiceAccountChange
	if found.Name != sa.Name {
		c.Name = &sa.Name
	}
	if found.Description != sa.Description {
		c.Description = &sa.Description
	}
	if !sameRoles(found.OrgRoles, g.OrgRoles) {
		c.OrgRoles = &g.OrgRoles
	}
	if c != (flexd.ServiceAccountChange{}) {
		if err := a.Store.UpdateServiceAccount(a.ctx, sa.ClientID, c); err != nil {
			return sa.at.self().errorf("update service account: %v", err)
		}
		a.res.Updated++
	}
	for _, pr := range g.Projects {
		if sameRoles(found.RolesIn(pr.GroupID), pr.Roles) {
			continue
		}
		if err := a.Store.SetServiceAccountProjectRoles(a.ctx, sa.ClientID, pr.GroupID, pr.Roles); err != nil {
			return sa.at.at("projects").errorf("grant project roles: %v", err)
		}
		a.res.Updated++
	}
	current := slices.ContainsFunc(found.Secrets, func(s flexd.ServiceAccountSecret) bool {
		return a.now.Before(s.ExpiresAt) && credential.CheckSecret(s.Hash, sa.ClientSecret)
	})
	if !current {
		sec, err := a.secret(sa)
		if err != nil {
			return err
		}
		if err := a.Store.ReplaceServiceAccountSecrets(a.ctx, sec); err != nil {
			return sa.at.at("clientSecret").errorf("replace secrets: %v", err)
		}
		a.res.Updated++
	}
	return a.instanceAdministrator(sa.at, sa.ClientID, sa.InstanceAdministrator)
}

// secret is the stored form of sa's client secret: its bcrypt hash and the
// masked value reads show.
func (a *applier) secret(sa *ServiceAccount) (*flexd.ServiceAccountSecret, error) {
	hash, err := credential.HashSecretCost(sa.ClientSecret, a.SecretCost)
	if err != nil {
		return nil, sa.at.at("clientSecret").errorf("%v", err)
	}
	s := sa.ClientSecret
	return &flexd.ServiceAccountSecret{ID: flexd.NewID(a.now), ClientID: sa.ClientID, Hash: hash,
		MaskedSecretValue: credential.ClientSecretPrefix + "..." + s[len(s)-4:], CreatedAt: a.now,
		ExpiresAt: a.now.Add(time.Duration(sa.SecretExpiresAfterHours) * time.Hour)}, nil
}

// instanceAdministrator designates id when the file says so; it never
// withdraws a designation.
func (a *applier) instanceAdministrator(o *object, id string, on bool) error {
	if !on {
		return nil
	}
	is, err := a.Store.IsInstanceAdministrator(a.ctx, id)
	if err != nil || is {
		return err
	}
	if err := a.Store.SetInstanceAdministrator(a.ctx, id, true); err != nil {
		return o.at("instanceAdministrator").errorf("%v", err)
	}
	a.res.Updated++
	return nil
}

// clusters creates the missing clusters IDLE with their snapshots
// COMPLETED, all in one unit of work. A cluster already there is left as
// it is, snapshots included.
func (a *applier) clusters(f *File) error {
	var res Result
	err := a.Store.InTx(a.ctx, func(tx flexd.Tx) error {
		res = Result{}
		for _, org := range f.Organizations {
			for _, p := range org.Projects {
				groupID := a.projectIDs[org][p.Name]
				for _, c := range p.Clusters {
					n, err := a.cluster(tx, groupID, c)
					if err != nil {
						return err
					}
					res.Created += n
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	a.res.Created += res.Created
	return nil
}

// cluster stores c in project groupID with its snapshots unless it is
// there, returning how many rows it created.
func (a *applier) cluster(tx flexd.Tx, groupID string, c *Cluster) (int, error) {
	_, err := tx.GetFlexCluster(a.ctx, groupID, c.Name)
	if err == nil {
		// A cluster already there keeps the snapshots it has: retention
		// may have pruned seeded ones, which must not come back.
		return 0, nil
	}
	if !errors.Is(err, flexd.ErrNotFound) {
		return 0, err
	}
	at := c.CreateDate
	if at.IsZero() {
		at = a.now
		for _, s := range c.Snapshots {
			if s.ScheduledTime.Before(at) {
				at = s.ScheduledTime
			}
		}
	}
	cl, err := a.Factory.NewFlexCluster(groupID, c.FlexClusterCreate, at)
	if err != nil {
		return 0, fieldOf(c.at, err)
	}
	cl.StateName = flexd.ClusterIdle
	if err := tx.CreateFlexCluster(a.ctx, cl); err != nil {
		return 0, c.at.self().errorf("create cluster: %v", err)
	}
	created := 1
	for _, s := range c.Snapshots {
		id := s.ID
		if id == "" {
			id = snapshotID(cl.ID, s.ScheduledTime)
		}
		if _, err := tx.GetSnapshotByID(a.ctx, id); err == nil {
			return 0, s.at.at("id").errorf("snapshot %s exists already, of another cluster", id)
		} else if !errors.Is(err, flexd.ErrNotFound) {
			return 0, err
		}
		sn := &flexd.Snapshot{ID: id, ScheduledTime: s.ScheduledTime, StartTime: s.StartTime, FinishTime: s.FinishTime}
		if err := a.Lifecycle.RecordSnapshot(a.ctx, tx, cl, sn); err != nil {
			return 0, s.at.self().errorf("record snapshot: %v", err)
		}
		created++
	}
	// After the snapshots: retention counts them.
	if err := a.Lifecycle.Adopt(a.ctx, tx, cl); err != nil {
		return 0, err
	}
	return created, nil
}

// snapshotID is the id of a seeded snapshot the file gives none: shaped
// like every flexd id (its first 4 bytes the seconds of scheduledTime, so
// snapshots sort by time) and the same at every start, so that the
// snapshot is recognised.
func snapshotID(clusterID string, scheduled time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[0:4], uint32(scheduled.Unix()))
	sum := sha256.Sum256(fmt.Appendf(nil, "flexd seed snapshot %s %d", clusterID, scheduled.Unix()))
	copy(b[4:], sum[:8])
	return hex.EncodeToString(b[:])
}
