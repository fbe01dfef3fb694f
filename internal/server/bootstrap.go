package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/atlasapi"
	"github.com/flexd/flexd/auth"
	"github.com/flexd/flexd/service"
)

// authConfig holds the authentication knobs. The admin credentials are read
// from the environment only, never from flags: flags show up in --help and
// in the process list.
type authConfig struct {
	mode           string
	failureLimit   int
	tokenRateLimit int
}

func (ac *authConfig) register(ef *envFlags) {
	ef.string(&ac.mode, "auth", "FLEXD_AUTH", "on", "authentication: on, or off (every caller may do everything: local use only)")
	ef.int(&ac.failureLimit, "auth-failure-limit", "FLEXD_AUTH_FAILURE_LIMIT", 30,
		"failed authentications per minute an address may make as one identity (a token bucket) before further failures get 429 RATE_LIMITED; valid credentials are always accepted")
	ef.int(&ac.tokenRateLimit, "token-rate-limit", "FLEXD_TOKEN_RATE_LIMIT", 50,
		"requests to /api/oauth/token per client and IP per minute, as a token bucket (Atlas: 50)")
}

func (ac *authConfig) validate() error {
	if ac.mode != "on" && ac.mode != "off" {
		return fmt.Errorf("%w: --auth must be on or off, not %q", errUsage, ac.mode)
	}
	if ac.failureLimit < 1 || ac.tokenRateLimit < 1 {
		return fmt.Errorf("%w: --auth-failure-limit and --token-rate-limit must be at least 1", errUsage)
	}
	return nil
}

// authSetup is what the API server gets from the authentication setup.
type authSetup struct {
	authenticator atlasapi.Authenticator // nil: open access
	token, revoke http.Handler
	wrap          func(http.Handler) http.Handler
}

// nonceCounter says where used Digest nonces are remembered, so that a
// captured request cannot be replayed.
type nonceCounter int

const (
	// noncesShared keeps them in the store's digest_nonces table, a
	// durable write per Digest request: with several processes on one
	// database (PostgreSQL replicas, or SQLite without the data directory
	// lock), each must refuse what another already accepted.
	noncesShared nonceCounter = iota
	// noncesInMemory keeps them in this process, which must be the only
	// one on its store (the data directory is locked). Nonces issued
	// before it started are refused as stale (auth's ThisProcessOnly), so
	// a restart, which forgets the counts, opens no replay; the Digest
	// path then writes nothing, which was a quarter of its CPU.
	noncesInMemory
)

// noncesFor picks the nonce counter: in memory exactly when this process
// makes every write to its store.
func noncesFor(locked bool) nonceCounter {
	if locked {
		return noncesInMemory
	}
	return noncesShared
}

// setup bootstraps the admin credentials and builds the authenticator and
// the OAuth endpoints over the store. Authentication runs on the wall clock
// whatever the lifecycle clock is: a drill must not stretch a token's life.
func (ac *authConfig) setup(ctx context.Context, store flexd.Store, svc *service.Service, getenv func(string) string,
	dataDir string, nonces nonceCounter, log *slog.Logger) (*authSetup, error) {
	if ac.mode == "off" {
		log.Warn("authentication is off: every caller may do everything (--auth=off)")
		return &authSetup{wrap: func(h http.Handler) http.Handler { return h }}, nil
	}
	if err := bootstrap(ctx, svc, getenv, dataDir, log); err != nil {
		return nil, err
	}
	key, err := auth.NonceKey(ctx, store)
	if err != nil {
		return nil, err
	}
	creds := auth.NewStoreCredentials(store, nil)
	var counter auth.NonceCounter = creds
	if nonces == noncesInMemory {
		counter = auth.NewMemoryNonceCounter(0, nil)
	}
	digest, err := auth.NewDigestVerifier(creds, counter, auth.DigestConfig{
		Keys: [][]byte{key}, ThisProcessOnly: nonces == noncesInMemory,
	})
	if err != nil {
		return nil, err
	}
	failures := auth.NewLimiter(auth.LimiterConfig{Limit: ac.failureLimit, Window: time.Minute})
	authn, err := auth.NewAuthenticator(auth.AuthenticatorConfig{
		Store: store, Digest: digest, Bearer: auth.NewBearerVerifier(creds, nil), FailureLimiter: failures, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	oauth := auth.NewOAuth(creds, creds, auth.OAuthConfig{
		Limiter:        auth.NewLimiter(auth.LimiterConfig{Limit: ac.tokenRateLimit, Window: time.Minute}),
		FailureLimiter: failures,
		WriteError:     atlasapi.WriteError,
		Observe: func(r *http.Request, subject string, err error) {
			if f, ok := err.(*auth.Failure); ok {
				log.Info("token request refused", "reason", string(f.Reason), "subject", f.Subject, "path", r.URL.Path)
			} else if err != nil {
				log.Error("token endpoint", "err", err)
			}
		},
	})
	return &authSetup{authenticator: authn, token: oauth.TokenHandler(), revoke: oauth.RevokeHandler(), wrap: authn.Handler}, nil
}

// Shapes the admin credentials must have: Atlas's (the spec's patterns).
var (
	publicKeyPattern = regexp.MustCompile(`^[a-z]{8}$`)
	clientIDPattern  = regexp.MustCompile(`^mdb_sa_id_[a-fA-F0-9]{24}$`)
)

// adminKeyFile is where a generated admin key is written, in the data
// directory: readable by the operator, never in the log stream.
const adminKeyFile = "admin-api-key.txt"

// bootstrap makes sure the operator can log in. FLEXD_ADMIN_PUBLIC_KEY and
// FLEXD_ADMIN_PRIVATE_KEY name an ORG_OWNER API key of the default
// organization, FLEXD_ADMIN_CLIENT_ID and FLEXD_ADMIN_CLIENT_SECRET an
// ORG_OWNER service account, each also flexd's instance administrator; each pair is made to exist with exactly those
// credentials at every start. With neither pair and no credential at all
// yet, flexd creates an API key and writes it to a file of the data
// directory, logging only where it is.
func bootstrap(ctx context.Context, svc *service.Service, getenv func(string) string, dataDir string, log *slog.Logger) error {
	orgID := svc.DefaultOrgID()
	pub, priv := getenv("FLEXD_ADMIN_PUBLIC_KEY"), getenv("FLEXD_ADMIN_PRIVATE_KEY")
	id, secret := getenv("FLEXD_ADMIN_CLIENT_ID"), getenv("FLEXD_ADMIN_CLIENT_SECRET")
	if (pub == "") != (priv == "") {
		return fmt.Errorf("%w: set both FLEXD_ADMIN_PUBLIC_KEY and FLEXD_ADMIN_PRIVATE_KEY, or neither", errUsage)
	}
	if (id == "") != (secret == "") {
		return fmt.Errorf("%w: set both FLEXD_ADMIN_CLIENT_ID and FLEXD_ADMIN_CLIENT_SECRET, or neither", errUsage)
	}
	if pub != "" {
		if !publicKeyPattern.MatchString(pub) {
			return fmt.Errorf("%w: FLEXD_ADMIN_PUBLIC_KEY must be 8 lowercase letters, like Atlas's public keys", errUsage)
		}
		outcome, err := svc.EnsureAPIKey(ctx, orgID, pub, priv, "flexd admin (FLEXD_ADMIN_PUBLIC_KEY)")
		if err != nil {
			return fmt.Errorf("bootstrap admin API key: %w", err)
		}
		k, err := svc.Store().GetAPIKeyByPublicKey(ctx, pub)
		if err != nil {
			return fmt.Errorf("bootstrap admin API key: %w", err)
		}
		if err := svc.SetInstanceAdministrator(ctx, k.ID, true); err != nil {
			return fmt.Errorf("bootstrap admin API key: %w", err)
		}
		log.Info("admin API key", "public_key", pub, "org_id", orgID, "outcome", outcome)
	}
	if id != "" {
		if !clientIDPattern.MatchString(id) {
			return fmt.Errorf("%w: FLEXD_ADMIN_CLIENT_ID must look like mdb_sa_id_ and 24 hex digits", errUsage)
		}
		if len(secret) > 72 {
			return fmt.Errorf("%w: FLEXD_ADMIN_CLIENT_SECRET must be at most 72 bytes", errUsage)
		}
		outcome, err := svc.EnsureServiceAccount(ctx, orgID, id, secret, "flexd admin")
		if err != nil {
			return fmt.Errorf("bootstrap admin service account: %w", err)
		}
		if err := svc.SetInstanceAdministrator(ctx, id, true); err != nil {
			return fmt.Errorf("bootstrap admin service account: %w", err)
		}
		log.Info("admin service account", "client_id", id, "org_id", orgID, "outcome", outcome)
	}
	if pub != "" || id != "" {
		return nil
	}
	has, err := svc.HasCredentials(ctx)
	if err != nil || has {
		return err
	}
	k, err := svc.CreateAdminAPIKey(ctx, orgID, "flexd admin (generated at first start)")
	if err != nil {
		return fmt.Errorf("bootstrap admin API key: %w", err)
	}
	if err := svc.SetInstanceAdministrator(ctx, k.ID, true); err != nil {
		return fmt.Errorf("bootstrap admin API key: %w", err)
	}
	path := filepath.Join(dataDir, adminKeyFile)
	// On PostgreSQL nothing else may have created the data directory.
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("write admin API key: %w", err)
	}
	body := fmt.Sprintf("# flexd admin API key: ORG_OWNER of organization %s, created %s.\n"+
		"# Digest credentials for the Atlas CLI, the Go SDK and curl --digest.\n"+
		"MONGODB_ATLAS_PUBLIC_API_KEY=%s\nMONGODB_ATLAS_PRIVATE_API_KEY=%s\n",
		orgID, k.Created.Format(time.RFC3339), k.PublicKey, k.PrivateKey)
	if err := writePrivateFile(path, []byte(body)); err != nil {
		return fmt.Errorf("write admin API key: %w", err)
	}
	log.Warn("created an admin API key; its private key is in the file, shown nowhere else",
		"public_key", k.PublicKey, "file", path)
	return nil
}

// writePrivateFile writes data to path readable by its owner only, also
// when an earlier file is there (its mode is reset before the write).
func writePrivateFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
