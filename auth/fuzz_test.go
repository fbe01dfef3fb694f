package auth

import (
	"encoding/base64"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

var digestSeeds = []string{
	// As the Atlas SDK sends it.
	`Digest username="abcdefgh", realm="MMS Public API", nonce="AQAAAABoF0Qm", uri="/api/atlas/v2/groups/a%2Fb?pretty=true", response="6629fae49393a05397450978507c4ef1", algorithm="MD5", qop=auth, nc=00000001, cnonce="0a4f113b0a4f113b"`,
	// RFC 7616 §3.9.1.
	`Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
	`digest  ,cnonce="x" ,	nc = 00000001,, qop="auth", username="we\"ird\\user", x="a, b"  `,
	`Digest`, `Digest `, `Digest a`, `Digest a=`, `Digest a="`, `Digest a="\`, `Digest a=b c`, `Digest ,,,`,
	`Digest a=b, a=c`, "Digest a=\"\x00\"", `Basic Zm9vOmJhcg==`, `Digest username*=UTF-8''J%C3%A4s%C3%B8n`,
}

// FuzzParseDigest: the parser never panics, and whatever it accepts
// survives re-serialisation: quoting its values again yields the same
// parameters.
func FuzzParseDigest(f *testing.F) {
	for _, s := range digestSeeds {
		f.Add(s)
	}
	creds := NewMemoryDigestCredentials()
	creds.Add("id", "abcdefgh", "secret")
	v, err := NewDigestVerifier(creds, NewMemoryNonceCounter(0, nil), DigestConfig{Keys: [][]byte{NewKey()}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, h string) {
		// The whole verifier survives it too, and a header nobody signed
		// with this server's nonce key never authenticates.
		r := httptest.NewRequest("GET", "/api/atlas/v2/groups/a%2Fb?pretty=true", nil)
		r.Header.Set("Authorization", h)
		if subject, err := v.Verify(r); err == nil {
			t.Fatalf("forged header authenticated as %q", subject)
		}
		p, err := parseDigest(h)
		if err != nil {
			return
		}
		var b strings.Builder
		b.WriteString("Digest ")
		for name, v := range map[string]string{
			"username": p.username, "realm": p.realm, "nonce": p.nonce, "uri": p.uri, "response": p.response,
			"algorithm": p.algorithm, "qop": p.qop, "nc": p.nc, "cnonce": p.cnonce, "userhash": p.userhash,
		} {
			b.WriteString(name + `="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `", `)
		}
		if p.hasUsernameStar {
			b.WriteString(`username*=x`)
		}
		again, err := parseDigest(b.String())
		if err != nil {
			if len(b.String()) > maxAuthHeader {
				return
			}
			t.Fatalf("re-serialised %q does not parse: %v", b.String(), err)
		}
		if again != p {
			t.Fatalf("round trip changed %+v into %+v", p, again)
		}
	})
}

// FuzzClientCredentials: parsing a token request's credentials never
// panics, and credentials it accepts from Basic survive RFC 6749 §2.3.1
// encoding by a conforming client.
func FuzzClientCredentials(f *testing.F) {
	basic := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
	}
	f.Add(basic("mdb_sa_id_0123456789abcdef01234567", "mdb_sa_sk_abc"), "grant_type=client_credentials")
	f.Add("", "grant_type=client_credentials&client_id=mdb_sa_id_x&client_secret=mdb_sa_sk_y")
	f.Add(basic("a:b", "c%d"), "grant_type=client_credentials&client_id=a%3Ab")
	f.Add(basic("a", "b"), "client_secret=b")
	f.Add("Basic !!!", "grant_type=a&grant_type=b")
	f.Add("basic "+base64.StdEncoding.EncodeToString([]byte("%zz:x")), "%zz")
	f.Add("Bearer x", "")
	f.Fuzz(func(t *testing.T, authorization, body string) {
		form, err := parseForm(body)
		if err != nil {
			return
		}
		c, err := clientCredentials(authorization, form)
		if err != nil {
			return
		}
		if c.id == "" || c.secret == "" {
			t.Fatalf("accepted empty credentials %+v", c)
		}
		if authorization == "" {
			return
		}
		again, err := clientCredentials(basic(c.id, c.secret), url.Values{})
		if err != nil || again != c {
			t.Fatalf("re-encoded %+v came back as %+v, %v", c, again, err)
		}
	})
}
