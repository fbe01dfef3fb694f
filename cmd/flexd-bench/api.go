package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Media types of the two resource families the benchmark touches.
const (
	acceptFlex    = "application/vnd.atlas.2024-11-13+json"
	acceptProject = "application/vnd.atlas.2023-01-01+json"
)

// credentials are the admin credentials the benchmark gives flexd through
// its bootstrap variables, and what it learned works.
type credentials struct {
	PublicKey, PrivateKey  string
	ClientID, ClientSecret string
	bearer                 string // an access token, once obtained
	digest                 bool   // the API answers Digest challenges
	open                   bool   // the API needs no credentials at all
}

func newCredentials() *credentials {
	return &credentials{
		PublicKey:    "benchkey",
		PrivateKey:   "6f0d6e2c-9a5b-4d53-8e0e-3b1c2a7d9f10",
		ClientID:     "mdb_sa_id_0123456789abcdef01234567",
		ClientSecret: "mdb_sa_sk_" + strings.Repeat("b3nch", 8),
	}
}

// env is what flexd is started with; variables this build does not know
// are ignored by it.
func (c *credentials) env() []string {
	return []string{
		"FLEXD_ADMIN_PUBLIC_KEY=" + c.PublicKey, "FLEXD_ADMIN_PRIVATE_KEY=" + c.PrivateKey,
		"FLEXD_ADMIN_CLIENT_ID=" + c.ClientID, "FLEXD_ADMIN_CLIENT_SECRET=" + c.ClientSecret,
	}
}

// client drives the API for seeding and for the scenarios' checks, on one
// connection, authenticating with the bearer token when there is one and
// Digest otherwise.
type client struct {
	c     *conn
	host  string
	creds *credentials
	resp  response
}

func newClient(addr string, creds *credentials) (*client, error) {
	c, err := dial(addr)
	if err != nil {
		return nil, err
	}
	return &client{c: c, host: addr, creds: creds}, nil
}

// authHeaders are the headers a call needs besides Accept; a Digest call
// gets its Authorization from the challenge instead.
func (cl *client) authHeaders(accept string) map[string]string {
	h := map[string]string{"Accept": accept}
	if cl.creds.bearer != "" {
		h["Authorization"] = "Bearer " + cl.creds.bearer
	}
	return h
}

// call makes one request and decodes a JSON answer into out (when not nil).
func (cl *client) call(method, target, accept string, body any, want int, out any) error {
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			return err
		}
	}
	h := cl.authHeaders(accept)
	if err := cl.c.do(request(method, target, cl.host, h, data), &cl.resp); err != nil {
		return err
	}
	if cl.resp.status == 401 && cl.resp.challenge != "" && cl.creds.digest {
		a, err := digestAuth(cl.resp.challenge, method, target, cl.creds.PublicKey, cl.creds.PrivateKey)
		if err != nil {
			return err
		}
		h["Authorization"] = a
		if err := cl.c.do(request(method, target, cl.host, h, data), &cl.resp); err != nil {
			return err
		}
	}
	if err := expect(&cl.resp, want); err != nil {
		return fmt.Errorf("%s %s: %w", method, target, err)
	}
	if out != nil {
		return json.Unmarshal(cl.resp.body, out)
	}
	return nil
}

// detectAuth finds out how this flexd authenticates: it asks for a token
// with the bootstrapped service account, tries a Digest handshake with the
// bootstrapped API key, and otherwise checks that the API is open.
func (cl *client) detectAuth() error {
	form := []byte("grant_type=client_credentials")
	basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(cl.creds.ClientID) + ":" + url.QueryEscape(cl.creds.ClientSecret)))
	req := request("POST", "/api/oauth/token", cl.host, map[string]string{
		"Authorization": "Basic " + basic, "Accept": "application/json",
		"Content-Type": "application/x-www-form-urlencoded", "Content-Length": fmt.Sprint(len(form)),
	}, nil)
	req = append(req, form...)
	if err := cl.c.do(req, &cl.resp); err == nil && cl.resp.status == 200 {
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if json.Unmarshal(cl.resp.body, &tok) == nil && tok.AccessToken != "" {
			cl.creds.bearer = tok.AccessToken
		}
	}
	target := "/api/atlas/v2/groups"
	h := map[string]string{"Accept": acceptProject}
	if err := cl.c.do(request("GET", target, cl.host, h, nil), &cl.resp); err != nil {
		return err
	}
	switch {
	case cl.resp.status == 200:
		cl.creds.open = true
	case cl.resp.status == 401 && cl.resp.challenge != "":
		a, err := digestAuth(cl.resp.challenge, "GET", target, cl.creds.PublicKey, cl.creds.PrivateKey)
		if err != nil {
			return err
		}
		h["Authorization"] = a
		if err := cl.c.do(request("GET", target, cl.host, h, nil), &cl.resp); err != nil {
			return err
		}
		cl.creds.digest = cl.resp.status == 200
	}
	if !cl.creds.open && !cl.creds.digest && cl.creds.bearer == "" {
		return fmt.Errorf("cannot authenticate: neither the bootstrapped credentials nor open access work (status %d)", cl.resp.status)
	}
	return nil
}

// idOf is the id field of an answer.
type idOf struct {
	ID        string `json:"id"`
	StateName string `json:"stateName"`
	Status    string `json:"status"`
}

// waitFor polls target until its stateName or status is want.
func (cl *client) waitFor(target, accept, want string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var v idOf
		if err := cl.call("GET", target, accept, nil, 200, &v); err != nil {
			return err
		}
		if v.StateName == want || v.Status == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: still %s%s after %s: %w", target, v.StateName, v.Status, timeout, errTimeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Paths of the seeded resources.
func projectPath(g string) string { return "/api/atlas/v2/groups/" + g }
func clusterPath(g, name string) string {
	return projectPath(g) + "/flexClusters/" + name
}
func restoreJobsPath(g, name string) string { return clusterPath(g, name) + "/backup/restoreJobs" }
func snapshotsPath(g, name string) string   { return clusterPath(g, name) + "/backup/snapshots" }

// createCluster creates a Flex cluster and waits until it is IDLE.
func (cl *client) createCluster(g, name string) error {
	body := map[string]any{"name": name, "providerSettings": map[string]string{
		"backingProviderName": "AWS", "regionName": "US_EAST_1"}}
	if err := cl.call("POST", projectPath(g)+"/flexClusters", acceptFlex, body, 201, nil); err != nil {
		return err
	}
	return cl.waitFor(clusterPath(g, name), acceptFlex, "IDLE", time.Minute)
}

// takeSnapshot takes a snapshot with flexd's drill route and waits until it
// is COMPLETED.
func (cl *client) takeSnapshot(g, name string) (string, error) {
	var s idOf
	if err := cl.call("POST", "/_flexd/groups/"+g+"/flexClusters/"+name+"/snapshots", "application/json", nil, 201, &s); err != nil {
		return "", err
	}
	return s.ID, cl.waitFor(snapshotsPath(g, name)+"/"+s.ID, acceptFlex, "COMPLETED", time.Minute)
}

// createRestore starts a restore of snapshot into target and returns its id.
func (cl *client) createRestore(g, name, snapshot, target string) (string, error) {
	var j idOf
	err := cl.call("POST", restoreJobsPath(g, name), acceptFlex,
		map[string]string{"snapshotId": snapshot, "targetDeploymentItemName": target}, 200, &j)
	return j.ID, err
}
