// Package seed applies a seed file: a YAML description of organizations,
// projects, API keys and service accounts with fixed credentials, role
// grants, Flex clusters and snapshots with given times, so that a CI job
// knows in advance what a fresh flexd holds and how to log in to it
// (`flexd serve --seed FILE`).
//
// Applying a file is idempotent: what it names is created when missing,
// credentials and grants are made to match it, and a second start with
// the same file changes nothing. A fault in the file names its file, line
// and field, and is found before anything is written. The package works
// through flexd.Store and two small interfaces that the service and the
// lifecycle engine implement, so an in-process test server can accept the
// same files.
package seed

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/credential"
)

// File is a parsed seed file.
type File struct {
	Name          string
	Organizations []*Organization
}

// Organization is an organization of the file, with what it holds.
type Organization struct {
	ID              string // empty: found by name, or created
	Name            string
	APIKeys         []*APIKey
	ServiceAccounts []*ServiceAccount
	Projects        []*Project
	at              *object
}

// Grant is a principal's roles in a project of its organization, named
// by the project's name in the file.
type Grant struct {
	Project string
	Roles   []flexd.Role
	at      at
}

// APIKey is an API key with fixed Digest credentials.
type APIKey struct {
	PublicKey             string
	PrivateKey            string
	Description           string
	Roles                 []flexd.Role // organization roles
	Projects              []Grant
	InstanceAdministrator bool
	at                    *object
}

// ServiceAccount is a service account with a fixed OAuth client id and
// secret.
type ServiceAccount struct {
	ClientID                string
	ClientSecret            string
	Name                    string
	Description             string
	Roles                   []flexd.Role
	Projects                []Grant
	InstanceAdministrator   bool
	SecretExpiresAfterHours int
	at                      *object
}

// Project is a project of an organization.
type Project struct {
	ID       string // empty: found by name in its organization, or created
	Name     string
	Tags     []flexd.Tag
	Clusters []*Cluster
	at       *object
}

// Cluster is a Flex cluster, seeded IDLE.
type Cluster struct {
	flexd.FlexClusterCreate
	// CreateDate is when the cluster was created (default: its oldest
	// snapshot's scheduledTime, or the time of seeding).
	CreateDate time.Time
	Snapshots  []*Snapshot
	at         *object
}

// Snapshot is a completed snapshot with given times.
type Snapshot struct {
	ID            string // empty: derived from the cluster and scheduledTime
	ScheduledTime time.Time
	StartTime     time.Time
	FinishTime    time.Time
	at            *object
}

// Credential shapes, as Atlas has them.
var (
	publicKeyPattern = regexp.MustCompile(`^[a-z]{8}$`)
	clientIDPattern  = regexp.MustCompile(`^mdb_sa_id_[a-f0-9]{24}$`)
)

// Limits the API enforces too.
const (
	maxDescription = 250
	maxSAName      = 64
	maxSecretBytes = 72 // bcrypt reads no further
	// defaultSecretHours is how long a seeded secret lasts: like the
	// operator's admin secret, until the file changes it, in practice.
	defaultSecretHours = 100 * 365 * 24
)

// Load reads and parses the seed file at path.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	return Parse(path, data)
}

// Parse parses a seed file's contents; name is the file name its faults
// name.
func Parse(name string, data []byte) (*File, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Line: 1, Err: errors.New("the file is empty")}
		}
		return nil, &Error{File: name, Line: yamlLine(err), Err: err}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: name, Line: extra.Line, Err: errors.New("a seed file holds one YAML document")}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, &Error{File: name, Line: 1, Err: errors.New("no seed in the file")}
	}
	if err := noAliases(name, doc.Content[0]); err != nil {
		return nil, err
	}
	root, err := newObject(name, "", doc.Content[0], "organizations")
	if err != nil {
		return nil, err
	}
	f := &File{Name: name}
	items, err := root.list("organizations")
	if err != nil {
		return nil, err
	}
	for i, n := range items {
		o, err := parseOrganization(name, root.itemPath("organizations", i), n)
		if err != nil {
			return nil, err
		}
		f.Organizations = append(f.Organizations, o)
	}
	return f, f.check()
}

// yamlLine digs the line out of a YAML syntax error ("yaml: line 3: ...").
func yamlLine(err error) int {
	var line int
	if _, e := fmt.Sscanf(err.Error(), "yaml: line %d:", &line); e == nil {
		return line
	}
	return 1
}

// noAliases refuses anchors and aliases: a seed is short, and an alias
// would give two places one line.
func noAliases(file string, n *yaml.Node) error {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return &Error{File: file, Line: n.Line, Err: errors.New("anchors and aliases are not supported in a seed file")}
	}
	for _, c := range n.Content {
		if err := noAliases(file, c); err != nil {
			return err
		}
	}
	return nil
}

func optionalID(o *object, name string) (string, error) {
	id, err := o.str(name, false)
	if err == nil && id != "" && !flexd.ValidID(id) {
		return "", o.at(name).errorf("must be 24 lowercase hex digits, not %q", id)
	}
	return id, err
}

func parseOrganization(file, path string, n *yaml.Node) (*Organization, error) {
	o, err := newObject(file, path, n, "id", "name", "apiKeys", "serviceAccounts", "projects")
	if err != nil {
		return nil, err
	}
	org := &Organization{at: o}
	if org.ID, err = optionalID(o, "id"); err != nil {
		return nil, err
	}
	if org.Name, err = o.str("name", true); err != nil {
		return nil, err
	}
	projects, err := o.list("projects")
	if err != nil {
		return nil, err
	}
	for i, pn := range projects {
		p, err := parseProject(file, o.itemPath("projects", i), pn)
		if err != nil {
			return nil, err
		}
		org.Projects = append(org.Projects, p)
	}
	keys, err := o.list("apiKeys")
	if err != nil {
		return nil, err
	}
	for i, kn := range keys {
		k, err := parseAPIKey(file, o.itemPath("apiKeys", i), kn)
		if err != nil {
			return nil, err
		}
		org.APIKeys = append(org.APIKeys, k)
	}
	accounts, err := o.list("serviceAccounts")
	if err != nil {
		return nil, err
	}
	for i, an := range accounts {
		a, err := parseServiceAccount(file, o.itemPath("serviceAccounts", i), an)
		if err != nil {
			return nil, err
		}
		org.ServiceAccounts = append(org.ServiceAccounts, a)
	}
	return org, nil
}

// roles reads organization roles (the principal's "roles") and project
// grants ("projects": project name to roles).
func roles(o *object) ([]flexd.Role, []Grant, error) {
	names, err := o.strings("roles")
	if err != nil {
		return nil, nil, err
	}
	if len(names) == 0 {
		return nil, nil, o.at("roles").errorf("at least one organization role is required (%v)", flexd.OrgRoles)
	}
	var orgRoles []flexd.Role
	for i, r := range names {
		if !flexd.Role(r).IsOrgRole() {
			return nil, nil, at{o.file, o.vals["roles"].Content[i].Line, o.itemPath("roles", i)}.errorf(
				"%q is not an organization role (%v)", r, flexd.OrgRoles)
		}
		orgRoles = appendNew(orgRoles, flexd.Role(r))
	}
	pn, ok := o.vals["projects"]
	if !ok {
		return orgRoles, nil, nil
	}
	if pn.Kind != yaml.MappingNode {
		return nil, nil, o.at("projects").errorf("must be a mapping of project name to roles, not %s", kindName(pn))
	}
	var grants []Grant
	for i := 0; i+1 < len(pn.Content); i += 2 {
		k, v := pn.Content[i], pn.Content[i+1]
		g := Grant{Project: k.Value, at: at{o.file, k.Line, field(o.path, "projects."+k.Value)}}
		if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
			return nil, nil, g.at.errorf("must be a list of at least one project role (%v)", flexd.GroupRoles)
		}
		for _, rn := range v.Content {
			r := flexd.Role(rn.Value)
			if rn.Kind != yaml.ScalarNode || !r.IsGroupRole() {
				return nil, nil, at{o.file, rn.Line, g.at.path}.errorf("%q is not a project role (%v)", rn.Value, flexd.GroupRoles)
			}
			g.Roles = appendNew(g.Roles, r)
		}
		for _, other := range grants {
			if other.Project == g.Project {
				return nil, nil, g.at.errorf("project given twice")
			}
		}
		grants = append(grants, g)
	}
	return orgRoles, grants, nil
}

func appendNew(rs []flexd.Role, r flexd.Role) []flexd.Role {
	for _, have := range rs {
		if have == r {
			return rs
		}
	}
	return append(rs, r)
}

func parseAPIKey(file, path string, n *yaml.Node) (*APIKey, error) {
	o, err := newObject(file, path, n, "publicKey", "privateKey", "description", "roles", "projects", "instanceAdministrator")
	if err != nil {
		return nil, err
	}
	k := &APIKey{at: o}
	if k.PublicKey, err = o.str("publicKey", true); err != nil {
		return nil, err
	}
	if !publicKeyPattern.MatchString(k.PublicKey) {
		return nil, o.at("publicKey").errorf("must be 8 lowercase letters, like Atlas's public keys")
	}
	if k.PrivateKey, err = o.str("privateKey", true); err != nil {
		return nil, err
	}
	if k.Description, err = o.str("description", true); err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(k.Description) > maxDescription {
		return nil, o.at("description").errorf("must be at most %d characters", maxDescription)
	}
	if k.Roles, k.Projects, err = roles(o); err != nil {
		return nil, err
	}
	if k.InstanceAdministrator, err = o.boolean("instanceAdministrator"); err != nil {
		return nil, err
	}
	return k, nil
}

func parseServiceAccount(file, path string, n *yaml.Node) (*ServiceAccount, error) {
	o, err := newObject(file, path, n, "clientId", "clientSecret", "name", "description", "roles", "projects",
		"instanceAdministrator", "secretExpiresAfterHours")
	if err != nil {
		return nil, err
	}
	a := &ServiceAccount{at: o}
	if a.ClientID, err = o.str("clientId", true); err != nil {
		return nil, err
	}
	if !clientIDPattern.MatchString(a.ClientID) {
		return nil, o.at("clientId").errorf("must be mdb_sa_id_ and 24 lowercase hex digits")
	}
	if a.ClientSecret, err = o.str("clientSecret", true); err != nil {
		return nil, err
	}
	if len(a.ClientSecret) > maxSecretBytes || len(a.ClientSecret) < 8 {
		return nil, o.at("clientSecret").errorf("must be 8 to %d bytes long", maxSecretBytes)
	}
	if a.Name, err = o.str("name", true); err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(a.Name) > maxSAName {
		return nil, o.at("name").errorf("must be at most %d characters", maxSAName)
	}
	if a.Description, err = o.str("description", false); err != nil {
		return nil, err
	}
	if a.Description == "" {
		a.Description = a.Name
	}
	if utf8.RuneCountInString(a.Description) > maxDescription {
		return nil, o.at("description").errorf("must be at most %d characters", maxDescription)
	}
	if a.Roles, a.Projects, err = roles(o); err != nil {
		return nil, err
	}
	if a.InstanceAdministrator, err = o.boolean("instanceAdministrator"); err != nil {
		return nil, err
	}
	hours, set, err := o.integer("secretExpiresAfterHours")
	if err != nil {
		return nil, err
	}
	a.SecretExpiresAfterHours = defaultSecretHours
	if set {
		if hours < 8 {
			return nil, o.at("secretExpiresAfterHours").errorf("must be at least 8")
		}
		a.SecretExpiresAfterHours = hours
	}
	return a, nil
}

func parseTags(o *object) ([]flexd.Tag, error) {
	items, err := o.list("tags")
	if err != nil {
		return nil, err
	}
	var tags []flexd.Tag
	for i, n := range items {
		t, err := newObject(o.file, o.itemPath("tags", i), n, "key", "value")
		if err != nil {
			return nil, err
		}
		var tag flexd.Tag
		if tag.Key, err = t.str("key", true); err != nil {
			return nil, err
		}
		if tag.Value, err = t.str("value", true); err != nil {
			return nil, err
		}
		tags = append(tags, tag)
	}
	return tags, nil
}

func parseProject(file, path string, n *yaml.Node) (*Project, error) {
	o, err := newObject(file, path, n, "id", "name", "tags", "clusters")
	if err != nil {
		return nil, err
	}
	p := &Project{at: o}
	if p.ID, err = optionalID(o, "id"); err != nil {
		return nil, err
	}
	if p.Name, err = o.str("name", true); err != nil {
		return nil, err
	}
	if p.Tags, err = parseTags(o); err != nil {
		return nil, err
	}
	clusters, err := o.list("clusters")
	if err != nil {
		return nil, err
	}
	for i, cn := range clusters {
		c, err := parseCluster(file, o.itemPath("clusters", i), cn)
		if err != nil {
			return nil, err
		}
		p.Clusters = append(p.Clusters, c)
	}
	return p, nil
}

func parseCluster(file, path string, n *yaml.Node) (*Cluster, error) {
	o, err := newObject(file, path, n, "name", "providerSettings", "tags", "terminationProtectionEnabled", "createDate", "snapshots")
	if err != nil {
		return nil, err
	}
	c := &Cluster{at: o}
	if c.Name, err = o.str("name", true); err != nil {
		return nil, err
	}
	pn, ok := o.vals["providerSettings"]
	if !ok {
		return nil, o.at("providerSettings").errorf("is required (backingProviderName and regionName)")
	}
	ps, err := newObject(file, field(path, "providerSettings"), pn, "backingProviderName", "regionName")
	if err != nil {
		return nil, err
	}
	if c.BackingProviderName, err = ps.str("backingProviderName", true); err != nil {
		return nil, err
	}
	if c.RegionName, err = ps.str("regionName", true); err != nil {
		return nil, err
	}
	if c.Tags, err = parseTags(o); err != nil {
		return nil, err
	}
	if c.TerminationProtectionEnabled, err = o.boolean("terminationProtectionEnabled"); err != nil {
		return nil, err
	}
	if c.CreateDate, err = o.time("createDate"); err != nil {
		return nil, err
	}
	snaps, err := o.list("snapshots")
	if err != nil {
		return nil, err
	}
	for i, sn := range snaps {
		s, err := parseSnapshot(file, o.itemPath("snapshots", i), sn)
		if err != nil {
			return nil, err
		}
		if !c.CreateDate.IsZero() && s.ScheduledTime.Before(c.CreateDate) {
			return nil, s.at.at("scheduledTime").errorf("%s is before the cluster's createDate %s",
				s.ScheduledTime.Format(time.RFC3339), c.CreateDate.Format(time.RFC3339))
		}
		c.Snapshots = append(c.Snapshots, s)
	}
	return c, nil
}

func parseSnapshot(file, path string, n *yaml.Node) (*Snapshot, error) {
	o, err := newObject(file, path, n, "id", "scheduledTime", "startTime", "finishTime")
	if err != nil {
		return nil, err
	}
	s := &Snapshot{at: o}
	if s.ID, err = optionalID(o, "id"); err != nil {
		return nil, err
	}
	if !o.has("finishTime") {
		return nil, o.at("finishTime").errorf("is required: seeded snapshots are COMPLETED")
	}
	if s.FinishTime, err = o.time("finishTime"); err != nil {
		return nil, err
	}
	if s.StartTime, err = o.time("startTime"); err != nil {
		return nil, err
	}
	if s.StartTime.IsZero() {
		s.StartTime = s.FinishTime
	}
	if s.ScheduledTime, err = o.time("scheduledTime"); err != nil {
		return nil, err
	}
	if s.ScheduledTime.IsZero() {
		s.ScheduledTime = s.StartTime
	}
	if s.FinishTime.Before(s.StartTime) {
		return nil, o.at("finishTime").errorf("is before startTime")
	}
	if s.StartTime.Before(s.ScheduledTime) {
		return nil, o.at("startTime").errorf("is before scheduledTime")
	}
	// flexd lists snapshots, and finds a cluster's latest, in id order:
	// like an ObjectId, an id begins with its time.
	if prefix := fmt.Sprintf("%08x", s.ScheduledTime.Unix()); s.ID != "" && s.ID[:8] != prefix {
		return nil, o.at("id").errorf("must begin with %s, scheduledTime's seconds in hex (ids sort by time, like ObjectIds)", prefix)
	}
	return s, nil
}

// check finds what is wrong across entries: names and credentials given
// twice, grants in projects the organization does not have.
func (f *File) check() error {
	orgIDs, keys, accounts := map[string]bool{}, map[string]bool{}, map[string]bool{}
	projectIDs := map[string]bool{}
	for _, org := range f.Organizations {
		if org.ID != "" {
			if orgIDs[org.ID] {
				return org.at.at("id").errorf("organization %s is given twice", org.ID)
			}
			orgIDs[org.ID] = true
		}
		names := map[string]bool{}
		for _, p := range org.Projects {
			if names[p.Name] {
				return p.at.at("name").errorf("the organization has two projects named %q", p.Name)
			}
			names[p.Name] = true
			if p.ID != "" {
				if projectIDs[p.ID] {
					return p.at.at("id").errorf("project %s is given twice", p.ID)
				}
				projectIDs[p.ID] = true
			}
			clusters := map[string]bool{}
			for _, c := range p.Clusters {
				if clusters[c.Name] {
					return c.at.at("name").errorf("the project has two clusters named %q", c.Name)
				}
				clusters[c.Name] = true
			}
		}
		checkGrants := func(grants []Grant) error {
			for _, g := range grants {
				if !names[g.Project] {
					return g.at.errorf("the organization has no project %q in this file", g.Project)
				}
			}
			return nil
		}
		for _, k := range org.APIKeys {
			if keys[k.PublicKey] {
				return k.at.at("publicKey").errorf("API key %s is given twice", k.PublicKey)
			}
			keys[k.PublicKey] = true
			if err := checkGrants(k.Projects); err != nil {
				return err
			}
		}
		for _, a := range org.ServiceAccounts {
			if accounts[a.ClientID] {
				return a.at.at("clientId").errorf("service account %s is given twice", a.ClientID)
			}
			accounts[a.ClientID] = true
			if err := checkGrants(a.Projects); err != nil {
				return err
			}
		}
	}
	return nil
}

// credentials is what an API key keeps of its private key.
func (k *APIKey) credentials() flexd.APIKeyCredentials {
	return flexd.APIKeyCredentials{
		HA1MD5:         credential.HA1(credential.AlgorithmMD5, k.PublicKey, k.PrivateKey),
		HA1SHA256:      credential.HA1(credential.AlgorithmSHA256, k.PublicKey, k.PrivateKey),
		PrivateKeyTail: flexd.PrivateKeyTail(k.PrivateKey),
	}
}
