package drill

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mongodb-forks/digest"
	"go.mongodb.org/atlas-sdk/v20250312006/admin"
	"go.mongodb.org/atlas-sdk/v20250312006/auth"
)

// ErrUsage marks a command line that could not be understood.
var ErrUsage = errors.New("usage")

// The Atlas CLI's variables, so a CI job set up for `atlas` runs drills
// unchanged.
const (
	envPublicKey    = "MONGODB_ATLAS_PUBLIC_API_KEY"
	envPrivateKey   = "MONGODB_ATLAS_PRIVATE_API_KEY"
	envClientID     = "MONGODB_ATLAS_CLIENT_ID"
	envClientSecret = "MONGODB_ATLAS_CLIENT_SECRET"
	envBaseURL      = "MONGODB_ATLAS_OPS_MANAGER_URL"
	envProjectID    = "MONGODB_ATLAS_PROJECT_ID"
	envDBUser       = "FLEXD_DRILL_DB_USER"
	envDBPassword   = "FLEXD_DRILL_DB_PASSWORD"
	atlasURL        = "https://cloud.mongodb.com"
)

const usage = `Usage: flexd drill --project ID --source CLUSTER --target CLUSTER [flags]

Restores a snapshot of the source Flex cluster into the target through the
Atlas Admin API (flexd or real Atlas), follows the restore job to its end
and reports RTO (request to COMPLETED), RPO (the snapshot's age at the
request) and each status change. Exits 1 when the restore fails or misses
--max-rto/--max-rpo, 2 on a bad command line.

With --db-user (and --db-password, or FLEXD_DRILL_DB_PASSWORD) it then
compares the data: per database and collection, the document count and a
content checksum of the snapshot (from its download link) against the
target (through its connection string, as that user). A difference, or a
collection on one side only, fails the drill.

Credentials, as the Atlas CLI takes them: MONGODB_ATLAS_CLIENT_ID and
MONGODB_ATLAS_CLIENT_SECRET (a service account, OAuth), or else
MONGODB_ATLAS_PUBLIC_API_KEY and MONGODB_ATLAS_PRIVATE_API_KEY (HTTP Digest).

Flags:
`

// Command is `flexd drill`: it parses args, runs the drill and writes the
// report (text on stdout, or --json; --junit FILE besides). Progress goes
// to stderr, redrawn in place on a terminal, one line per change otherwise.
func Command(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, userAgent string) error {
	fs := flag.NewFlagSet("flexd drill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		p        Plan
		baseURL  string
		asJSON   bool
		junit    string
		progress bool
	)
	fs.StringVar(&baseURL, "base-url", cmp.Or(getenv(envBaseURL), atlasURL), "the Atlas API's base URL, e.g. http://127.0.0.1:8080 for flexd (env "+envBaseURL+")")
	fs.StringVar(&p.ProjectID, "project", getenv(envProjectID), "id of the source cluster's project (env "+envProjectID+")")
	fs.StringVar(&p.Source, "source", "", "Flex cluster whose snapshot is restored")
	fs.StringVar(&p.Target, "target", "", "Flex cluster restored into (its data is replaced)")
	fs.StringVar(&p.TargetProject, "target-project", "", "project of the target cluster (default: --project)")
	fs.StringVar(&p.Snapshot, "snapshot", Latest, "snapshot to restore: latest (the newest completed) or a snapshot id")
	fs.DurationVar(&p.PollInterval, "poll-interval", 2*time.Second, "time between two reads of the restore job")
	fs.DurationVar(&p.Timeout, "timeout", time.Hour, "how long to wait for the restore to end")
	fs.DurationVar(&p.MaxRTO, "max-rto", 0, "fail when the RTO exceeds this (0: no threshold)")
	fs.DurationVar(&p.MaxRPO, "max-rpo", 0, "fail when the RPO exceeds this (0: no threshold)")
	fs.StringVar(&p.DBUser, "db-user", getenv(envDBUser), "database user to read the target as, for the data check (env "+envDBUser+"; none: the check is skipped)")
	fs.StringVar(&p.DBPassword, "db-password", "", "password of --db-user (env "+envDBPassword+"; never printed)")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON instead of text")
	fs.StringVar(&junit, "junit", "", "also write the report as JUnit XML to this file")
	fs.BoolVar(&progress, "progress", true, "show progress on stderr")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if p.DBPassword == "" {
		p.DBPassword = getenv(envDBPassword)
	}
	var missing []string
	for flagName, v := range map[string]string{"--project": p.ProjectID, "--source": p.Source, "--target": p.Target} {
		if v == "" {
			missing = append(missing, flagName)
		}
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected arguments %q", ErrUsage, fs.Args())
	case len(missing) > 0:
		return fmt.Errorf("%w: flexd drill needs %s", ErrUsage, strings.Join(slices.Sorted(slices.Values(missing)), ", "))
	case p.Source == p.Target && p.TargetProject == "":
		return fmt.Errorf("%w: --target must differ from --source", ErrUsage)
	case p.DBUser == "" && p.DBPassword != "":
		return fmt.Errorf("%w: --db-password without --db-user", ErrUsage)
	case p.DBUser != "" && p.DBPassword == "":
		return fmt.Errorf("%w: --db-user needs --db-password (or %s)", ErrUsage, envDBPassword)
	case p.PollInterval <= 0 || p.Timeout <= 0 || p.MaxRTO < 0 || p.MaxRPO < 0:
		return fmt.Errorf("%w: --poll-interval and --timeout must be positive, --max-rto and --max-rpo not negative", ErrUsage)
	}
	api, err := client(ctx, baseURL, getenv, userAgent)
	if err != nil {
		return err
	}

	var pr Progress = quiet{}
	if progress {
		pr = newProgress(stderr)
	}
	res, runErr := Run(ctx, api, p, pr)
	if res == nil {
		return runErr
	}
	write := WriteText
	if asJSON {
		write = WriteJSON
	}
	if err := write(stdout, res); err != nil {
		return errors.Join(runErr, err)
	}
	if junit != "" {
		if err := writeFile(junit, res); err != nil {
			return errors.Join(runErr, err)
		}
	}
	return runErr
}

// client builds the SDK client with the Atlas CLI's credentials: a
// service account if one is set, else an API key.
func client(ctx context.Context, baseURL string, getenv func(string) string, userAgent string) (*admin.APIClient, error) {
	mods := []admin.ClientModifier{admin.UseBaseURL(baseURL), admin.UseUserAgent(userAgent)}
	// A stuck server must not hang a CI job forever.
	base := &http.Client{Timeout: time.Minute}
	switch id, secret, public, private := getenv(envClientID), getenv(envClientSecret), getenv(envPublicKey), getenv(envPrivateKey); {
	case id != "" && secret != "":
		// The SDK's UseOAuthAuth would otherwise install its token
		// transport on http.DefaultClient, for the whole process.
		ctx = context.WithValue(ctx, auth.HTTPClient, base)
		mods = append(mods, admin.UseOAuthAuth(ctx, id, secret))
	case public != "" && private != "":
		c, err := digest.NewTransportWithHTTPRoundTripper(public, private, http.DefaultTransport).Client()
		if err != nil {
			return nil, err
		}
		c.Timeout = base.Timeout
		mods = append(mods, admin.UseHTTPClient(c))
	default:
		return nil, ErrNoCredentials
	}
	api, err := admin.NewClient(mods...)
	if err != nil {
		return nil, err
	}
	api.GetConfig().HTTPClient.Timeout = base.Timeout
	return api, nil
}

func writeFile(name string, r *Result) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := WriteJUnit(f, r); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
