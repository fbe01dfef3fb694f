package atlasapi

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/flexd/flexd"
)

// The headers real Atlas puts on every authenticated answer, success or
// error (ATLAS-NOTES §7). The 401 challenge carries none of them: it is
// answered before the caller is known.

// securityHeaders are the three fixed ones.
func securityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
}

// RateLimitMode says what flexd does with Atlas's per-family budgets.
type RateLimitMode string

const (
	// RateLimitReport (the zero value) counts each budget down and reports
	// it in Ratelimit-Limit / Ratelimit-Remaining, never refusing a call.
	RateLimitReport RateLimitMode = "report"
	// RateLimitEnforce also answers a call on a spent budget with 429
	// RATE_LIMITED and Retry-After, to rehearse Atlas's throttling.
	RateLimitEnforce RateLimitMode = "enforce"
	// RateLimitOff neither counts nor reports.
	RateLimitOff RateLimitMode = "off"
)

// ParseRateLimitMode reads a --api-rate-limits value.
func ParseRateLimitMode(s string) (RateLimitMode, bool) {
	switch m := RateLimitMode(s); m {
	case RateLimitReport, RateLimitEnforce, RateLimitOff:
		return m, true
	}
	return "", false
}

// family is an Atlas "endpoint set": routes that share one budget.
type family struct {
	name  string
	limit int // Ratelimit-Limit: requests a full budget allows
}

// familyRule maps route patterns to their family: a pattern belongs to the
// rule with the longest prefix that ends at a segment boundary of it (or is
// the whole of it, for an exact rule).
type familyRule struct {
	prefix string
	exact  bool
	family family
}

// families are the budgets recorded from real Atlas (ATLAS-NOTES §7). Routes
// that other work adds under these prefixes (/clusters, settings, teams,
// limits, accessList, databaseUsers, organization CRUD) fall in by their
// pattern; a route under no rule (flexd's /_flexd drills) has no budget.
var families = []familyRule{
	{orgs, true, family{"orgs", 300}},
	{orgs + "/{orgId}", false, family{"org", 500}},
	{groups, false, family{"groups", 1200}},
	{projectAPIKeys, false, family{"projectApiKeys", 1200}},
	{flex, false, family{"flexClusters", 1200}},
	{project + "/accessList", false, family{"accessList", 1200}},
	{project + "/settings", false, family{"settings", 1200}},
	{project + "/teams", false, family{"teams", 1200}},
	{project + "/clusters", false, family{"clusters", 10000}},
	{project + "/databaseUsers", false, family{"databaseUsers", 10000}},
}

// familyOf returns the family of a route pattern.
func familyOf(pattern string) (family, bool) {
	best, found := familyRule{}, false
	for _, rule := range families {
		if !coversPattern(rule, pattern) || (found && len(rule.prefix) <= len(best.prefix)) {
			continue
		}
		best, found = rule, true
	}
	return best.family, found
}

func coversPattern(rule familyRule, pattern string) bool {
	if pattern == rule.prefix {
		return true
	}
	rest, ok := strings.CutPrefix(pattern, rule.prefix)
	return ok && !rule.exact && (rest[0] == '/' || rest[0] == ':')
}

// budgets are token buckets, one per caller and family, as Atlas keeps
// them (its docs: a bucket per endpoint set and scope, holding up to its
// capacity, refilled at a fixed rate). Atlas reports the capacity as
// Ratelimit-Limit and the tokens left as Ratelimit-Remaining; it does not
// publish every set's refill rate, so flexd's rule is that a budget refills
// in full over one minute (the window Atlas words its older limits in).
type budgets struct {
	mode  RateLimitMode
	clock flexd.Clock

	mu      sync.Mutex
	buckets map[budgetKey]*rate.Limiter
}

type budgetKey struct {
	caller string
	family string
}

// budgetWindow is the time an empty budget takes to refill completely.
const budgetWindow = time.Minute

// maxBuckets bounds the memory budgets take: past it, the full buckets
// (callers idle for a window) are forgotten, and if none is full, all.
const maxBuckets = 100_000

func newBudgets(mode RateLimitMode, clock flexd.Clock) *budgets {
	if mode == "" {
		mode = RateLimitReport
	}
	if clock == nil {
		clock = wallClock{}
	}
	return &budgets{mode: mode, clock: clock, buckets: map[budgetKey]*rate.Limiter{}}
}

// wallClock is time.Now without the whole-second truncation of
// flexd.SystemClock, so that budgets refill smoothly.
type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// take spends one request of caller's budget in f and returns what is left
// and, when the budget was already spent, how long until a request is
// allowed again.
func (b *budgets) take(caller string, f family) (remaining int, wait time.Duration) {
	now := b.clock.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	k := budgetKey{caller, f.name}
	l := b.buckets[k]
	if l == nil {
		if len(b.buckets) >= maxBuckets {
			b.forgetFull(now)
		}
		// A new bucket starts full.
		l = rate.NewLimiter(rate.Limit(float64(f.limit)/budgetWindow.Seconds()), f.limit)
		b.buckets[k] = l
	}
	if l.AllowN(now, 1) {
		return int(l.TokensAt(now)), 0
	}
	missing := 1 - l.TokensAt(now)
	return 0, time.Duration(missing / float64(l.Limit()) * float64(time.Second))
}

func (b *budgets) forgetFull(now time.Time) {
	for k, l := range b.buckets {
		if l.TokensAt(now) >= float64(l.Burst()) {
			delete(b.buckets, k)
		}
	}
	if len(b.buckets) >= maxBuckets {
		clear(b.buckets)
	}
}

// callerKey names whose budget a request spends: the API key or service
// account, whatever organization or project it acts in.
func callerKey(p *flexd.Principal) string {
	if p == nil {
		return ""
	}
	return p.Kind + ":" + p.ID + ":" + p.Name
}

// admit runs on every authenticated request, before anything else answers
// it: it sets the fixed headers and, for a route with a family, spends one
// request of the caller's budget and reports it. In enforce mode a spent
// budget is a 429 RATE_LIMITED with Retry-After.
func (s *server) admit(w http.ResponseWriter, r *http.Request, f family, hasFamily bool) error {
	h := w.Header()
	securityHeaders(h)
	if !hasFamily || s.budgets.mode == RateLimitOff {
		return nil
	}
	remaining, wait := s.budgets.take(callerKey(stateOf(r).principal), f)
	h.Set("Ratelimit-Limit", itoa(f.limit))
	h.Set("Ratelimit-Remaining", itoa(remaining))
	if wait > 0 && s.budgets.mode == RateLimitEnforce {
		e := flexd.RateLimited(strings.TrimPrefix(r.URL.EscapedPath(), "/"), f.limit,
			int(budgetWindow/time.Minute))
		e.RetryAfter = max(wait, time.Second)
		return e
	}
	return nil
}

// deprecation is a resource version Atlas has deprecated: calls served in
// it get the Deprecation and Sunset headers (RFC 9745, RFC 8594), as HTTP
// dates.
type deprecation struct {
	prefix     string // route patterns it applies to (as familyRule)
	version    string
	deprecated time.Time // when the version that replaced it was released
	sunset     time.Time
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// deprecations are the deprecated versions among the routes flexd serves
// (and the /clusters routes being added). The spec lists them in each
// operation's description ("Deprecated versions: v2-{2023-02-01},
// v2-{2023-01-01}"); each was deprecated when its successor was released.
// The spec gives no sunset date for them; it says the cluster API serves
// Flex clusters "until January 2026", and gives the Flex-era cluster
// backup routes x-sunset 2026-01-15, which flexd takes for all of them.
var deprecations = []deprecation{
	{project + "/clusters", "2023-01-01", day("2023-02-01"), day("2026-01-15")},
	{project + "/clusters", "2023-02-01", day("2024-08-05"), day("2026-01-15")},
	{project + "/clusters", "2024-08-05", day("2024-10-23"), day("2026-01-15")},
}

// deprecationOf returns the deprecation of a route's version, if any. The
// 2024-08-05 entry applies only where a newer version exists (create and
// update); a route whose newest version is 2024-08-05 (get) is current.
func deprecationOf(pattern string, versions []string, version string) (deprecation, bool) {
	if len(versions) == 0 || version == versions[len(versions)-1] {
		return deprecation{}, false
	}
	for _, d := range deprecations {
		if d.version == version && coversPattern(familyRule{prefix: d.prefix}, pattern) {
			return d, true
		}
	}
	return deprecation{}, false
}

func deprecationHeaders(h http.Header, d deprecation) {
	h.Set("Deprecation", d.deprecated.UTC().Format(http.TimeFormat))
	h.Set("Sunset", d.sunset.UTC().Format(http.TimeFormat))
}
