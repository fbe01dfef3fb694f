package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key
// into dir and returns their paths and a pool that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "flexd test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestClusterTLS: with --cluster-tls-cert and --cluster-tls-key, a
// cluster's endpoint speaks TLS only; its connection string says so
// (ssl=true, Atlas's spelling) and the Go driver connects with it and a
// pool trusting the certificate; a plaintext client gets nowhere.
func TestClusterTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	p := &planeServer{t: t, s: start(t, dir, map[string]string{"FLEXD_CLOCK": "manual", "FLEXD_PROVISION_TIME": "0",
		"FLEXD_CLUSTER_PORTS": testClusterPorts(), "FLEXD_CLUSTER_TLS_CERT": certFile, "FLEXD_CLUSTER_TLS_KEY": keyFile})}
	p.g = p.must(201, "POST", "/api/atlas/v2/groups", `{"name":"tls"}`)["id"].(string)
	p.flex = "/api/atlas/v2/groups/" + p.g + "/flexClusters"
	p.must(201, "POST", p.flex, `{"name":"tls1","providerSettings":{"backingProviderName":"AWS","regionName":"US_EAST_1"}}`)
	var uri string
	p.await("tls1 IDLE", func() bool {
		c := p.must(200, "GET", p.flex+"/tls1", "")
		uri, _ = c["connectionStrings"].(map[string]any)["standard"].(string)
		return c["stateName"] == "IDLE"
	})
	if !strings.HasPrefix(uri, "mongodb://127.0.0.1:") || !strings.HasSuffix(uri, "/?ssl=true") {
		t.Fatalf("standard connection string %q, want mongodb://127.0.0.1:PORT/?ssl=true", uri)
	}
	ctx := context.Background()
	// Over TLS as a database user, the URI the README shows plus ssl=true.
	const pw = "tls-user-pw-1x"
	p.must(201, "POST", "/api/atlas/v2/groups/"+p.g+"/databaseUsers", `{"databaseName":"admin","username":"tlsuser","password":"`+pw+
		`","roles":[{"roleName":"readWriteAnyDatabase","databaseName":"admin"}]}`)
	plainURI := uri
	uri = strings.Replace(uri, "mongodb://", "mongodb://tlsuser:"+pw+"@", 1) + "&authSource=admin"
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetTLSConfig(&tls.Config{RootCAs: pool}).SetTimeout(20 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Disconnect(ctx) })
	if _, err := c.Database("app").Collection("c").InsertOne(ctx, bson.D{{Key: "x", Value: 1}}); err != nil {
		t.Fatalf("insert over TLS: %v", err)
	}
	if n, err := c.Database("app").Collection("c").CountDocuments(ctx, bson.D{}); err != nil || n != 1 {
		t.Fatalf("count over TLS = %d %v", n, err)
	}
	// The same address with tls=true spelled the other way.
	tlsURI := strings.Replace(uri, "ssl=true", "tls=true", 1)
	c2, err := mongo.Connect(options.Client().ApplyURI(tlsURI).SetTLSConfig(&tls.Config{RootCAs: pool}).SetTimeout(20 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c2.Disconnect(ctx) })
	if err := c2.Ping(ctx, nil); err != nil {
		t.Fatalf("ping with tls=true: %v", err)
	}
	// A client that does not trust the certificate, and one that speaks
	// plaintext, are refused.
	untrusting, err := mongo.Connect(options.Client().ApplyURI(uri + "&serverSelectionTimeoutMS=1000"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { untrusting.Disconnect(ctx) })
	if err := untrusting.Ping(ctx, nil); err == nil {
		t.Fatal("a client without the certificate in its roots connected")
	}
	plain := strings.TrimSuffix(plainURI, "?ssl=true") + "?serverSelectionTimeoutMS=1000"
	pc, err := mongo.Connect(options.Client().ApplyURI(plain))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Disconnect(ctx) })
	if err := pc.Ping(ctx, nil); err == nil {
		t.Fatal("a plaintext client connected to a TLS endpoint")
	}
}

func TestClusterTLSFlagsAreCheckedAtStart(t *testing.T) {
	certFile, keyFile, _ := selfSigned(t, t.TempDir())
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, m := range []map[string]string{
		{"FLEXD_CLUSTER_TLS_CERT": certFile},
		{"FLEXD_CLUSTER_TLS_KEY": keyFile},
		{"FLEXD_CLUSTER_TLS_CERT": certFile, "FLEXD_CLUSTER_TLS_KEY": certFile},
		{"FLEXD_CLUSTER_TLS_CERT": filepath.Join(t.TempDir(), "missing.pem"), "FLEXD_CLUSTER_TLS_KEY": keyFile},
	} {
		if _, err := parseServeFlags(nil, env(m), io.Discard); !errors.Is(err, errUsage) {
			t.Errorf("%v: err = %v, want a usage error", m, err)
		}
	}
	c, err := parseServeFlags([]string{"--cluster-tls-cert", certFile, "--cluster-tls-key", keyFile}, env(nil), io.Discard)
	if err != nil || c.plane.tls == nil {
		t.Fatalf("--cluster-tls-cert/--cluster-tls-key: %v", err)
	}
}
