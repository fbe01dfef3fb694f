package dataplane

import (
	"errors"
	"strings"
	"testing"

	"github.com/flexd/flexd"
)

// TestParseBackendURI: an attached cluster's connection string keeps the
// hosts and the options that hold no secret, and drops the credentials
// and every other option; what is not a usable URI is refused without
// repeating it.
func TestParseBackendURI(t *testing.T) {
	for _, tc := range []struct{ uri, hosts, standard string }{
		{"mongodb://u:p@h:27017/", "h:27017", "mongodb://h:27017/"},
		{"mongodb://h1:1,h2:2/admin?replicaSet=rs0&tls=true", "h1:1,h2:2", "mongodb://h1:1,h2:2/?replicaSet=rs0&tls=true"},
		{"mongodb://ops:s%40cret@db.example:27017/?authSource=admin&authMechanism=SCRAM-SHA-256&appName=x&maxPoolSize=5",
			"db.example:27017", "mongodb://db.example:27017/?authMechanism=SCRAM-SHA-256&authSource=admin"},
		{"mongodb://AKIA:secretkey@db.example/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:tok",
			"db.example", "mongodb://db.example/?authMechanism=MONGODB-AWS"},
		{"mongodb://127.0.0.1", "127.0.0.1", "mongodb://127.0.0.1/"},
	} {
		b, err := parseBackendURI(tc.uri)
		if err != nil {
			t.Errorf("%s: %v", tc.uri, err)
			continue
		}
		if b.URI != tc.uri || b.Hosts != tc.hosts || b.ConnectionString != tc.standard {
			t.Errorf("%s: hosts %q, connection string %q; want %q, %q", tc.uri, b.Hosts, b.ConnectionString, tc.hosts, tc.standard)
		}
	}
	for _, uri := range []string{
		"", "http://h/", "h:27017", "mongodb://",
		"mongodb://u:topsecret@h:1/?connectTimeoutMS=abc", "mongodb://u:top%zzsecret@h:1/",
	} {
		_, err := parseBackendURI(uri)
		var fe *flexd.Error
		if !errors.As(err, &fe) || fe.Code != "INVALID_BACKEND_URI" {
			t.Errorf("%q: %v, want INVALID_BACKEND_URI", uri, err)
			continue
		}
		if strings.Contains(fe.Detail, "topsecret") || strings.Contains(fe.Detail, "top%zzsecret") {
			t.Errorf("%q: the error repeats the password: %s", uri, fe.Detail)
		}
	}
}

// TestRedact: the URI, its user information and its password, raw or
// unescaped, leave an error's message.
func TestRedact(t *testing.T) {
	uri := "mongodb://ops:p%40ss-w0rd@h:1/?authSource=admin"
	err := redact(uri, errors.New("dial "+uri+": ops:p%40ss-w0rd rejected; password p@ss-w0rd; p%40ss-w0rd"))
	for _, secret := range []string{"p%40ss-w0rd", "p@ss-w0rd", "ops:p%40ss"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%q is still in %q", secret, err)
		}
	}
	uri = "mongodb://h:1/?tls=true&tlsCertificateKeyFilePassword=k3y%2Bpass&authMechanismProperties=AWS_SESSION_TOKEN:t0ken"
	err = redact(uri, errors.New("bad k3y+pass and k3y%2Bpass, AWS_SESSION_TOKEN:t0ken"))
	for _, secret := range []string{"k3y", "t0ken"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%q is still in %q", secret, err)
		}
	}
	if redact(uri, nil) != nil {
		t.Error("redact(nil) is not nil")
	}
}
