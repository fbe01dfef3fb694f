package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"

	"github.com/flexd/flexd"
	"github.com/flexd/flexd/seal"
)

// Secrets at rest. With a seal.Box (SealWith), the store keeps no secret a
// copy of the database could use:
//
//   - api_keys.ha1_md5 and ha1_sha256 (enough to sign Digest requests),
//     server_keys.value (the nonce key) and cluster_backends.uri (an
//     attached deployment's connection string, credentials included) are
//     sealed (AES-GCM) under the box's key, each bound to its table,
//     column and row;
//   - a download job's token is derived from its id under the key, so it
//     is shown again without being stored, and restore_jobs.download_token
//     holds only its SHA-256 digest, the way access tokens are kept.
//
// Without a box (tests of the store alone) values are kept as given.

// SealWith makes the store seal secrets under b from now on. Call it before
// the store is used, then SealSecrets once to seal what was stored before.
func (s *Store) SealWith(b *seal.Box) { s.box = b }

// downloadTokenPurpose names download tokens among the box's derived
// tokens.
const downloadTokenPurpose = "download-token"

func (s *Store) sealValue(v, where string) string {
	if s.box == nil || v == "" {
		return v
	}
	return s.box.Seal(v, where)
}

func (s *Store) openValue(v, where string) (string, error) {
	if !seal.IsSealed(v) {
		return v, nil
	}
	if s.box == nil {
		return "", fmt.Errorf("%s is sealed and the store has no key", where)
	}
	return s.box.Open(v, where)
}

func ha1Where(col, id string) string { return "api_keys." + col + "/" + id }

func serverKeyWhere(name string) string { return "server_keys.value/" + name }

// scanAPIKey reads a key and opens its HA1 values.
func (s *Store) scanAPIKey(r rowScanner, k *flexd.APIKey) error {
	if err := scanAPIKeyRow(r, k); err != nil {
		return err
	}
	var err1, err2 error
	k.HA1MD5, err1 = s.openValue(k.HA1MD5, ha1Where("ha1_md5", k.ID))
	k.HA1SHA256, err2 = s.openValue(k.HA1SHA256, ha1Where("ha1_sha256", k.ID))
	return errors.Join(err1, err2)
}

// downloadToken is what a DOWNLOAD job's token is stored as: with a box,
// the token is the one derived from the job's id (whatever j carried) and
// the column holds its digest.
func (s *Store) downloadToken(j *flexd.RestoreJob) any {
	if s.box == nil || j.DownloadToken == "" {
		return nullIfEmpty(j.DownloadToken)
	}
	j.DownloadToken = s.box.Token(downloadTokenPurpose, j.ID)
	return seal.Digest(j.DownloadToken)
}

// downloadKey is what GetDownload looks a token up by.
func (s *Store) downloadKey(token string) string {
	if s.box == nil {
		return token
	}
	return seal.Digest(token)
}

// scanRestoreJob reads a job for the API, with its download token as the
// client uses it.
func (s *Store) scanRestoreJob(r rowScanner, j *flexd.RestoreJob) error {
	if err := scanRestoreJob(r, j); err != nil {
		return err
	}
	if s.box != nil && j.DownloadToken != "" {
		j.DownloadToken = s.box.Token(downloadTokenPurpose, j.ID)
	}
	return nil
}

// hexDigest is a SHA-256 digest as the download token column holds it.
var hexDigest = regexp.MustCompile(`^[0-9a-f]{64}$`)

// SealSecrets seals what was stored before the store had a box: HA1
// values, server keys, and download tokens (replaced by the job's derived
// token, so a link handed out before is void and the job shows its new
// one). It fails with seal.ErrWrongKey when a value sealed under another
// key is found: every process on one database needs the same key. It
// returns how many values it changed. On SQLite the old values are then
// scrubbed from the file and its WAL (secure_delete, a truncating
// checkpoint), so they cannot be read back from free pages.
func (s *Store) SealSecrets(ctx context.Context) (int, error) {
	if s.box == nil {
		return 0, errors.New("seal secrets: the store has no key")
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	scrub := s.dialect.Scrub()
	if scrub != nil {
		if _, err := conn.ExecContext(ctx, scrub.On); err != nil {
			return 0, fmt.Errorf("seal secrets: %w", err)
		}
		defer func() { _, _ = conn.ExecContext(context.Background(), scrub.Off) }()
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("seal secrets: %w", err)
	}
	var touched []flexd.Parent
	n, err := s.sealRows(ctx, runner{s: s, q: tx, touched: &touched})
	if err == nil {
		err = tx.Commit()
	} else {
		_ = tx.Rollback()
	}
	// Credentials and download jobs of any parent may have changed: a
	// start-up step, so every cache starts over.
	s.versions.bump([]flexd.Parent{everything})
	if err != nil {
		return 0, fmt.Errorf("seal secrets: %w", err)
	}
	if n > 0 && scrub != nil {
		if _, err := conn.ExecContext(ctx, scrub.Flush); err != nil {
			return n, fmt.Errorf("seal secrets: checkpoint: %w", err)
		}
	}
	return n, nil
}

// sealRows seals every plain secret in one transaction.
func (s *Store) sealRows(ctx context.Context, r runner) (int, error) {
	n := 0
	done := func(v string) bool { return v == "" || seal.IsSealed(v) } // "" is no secret: stored as it is
	type row struct{ key, a, b string }
	read := func(query string, args ...any) ([]row, error) {
		rows, err := r.query(ctx, query, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []row
		for rows.Next() {
			var x row
			var b sql.NullString
			if err := rows.Scan(&x.key, &x.a, &b); err != nil {
				return nil, err
			}
			x.b = b.String
			out = append(out, x)
		}
		return out, rows.Err()
	}
	keys, err := read("SELECT id, ha1_md5, ha1_sha256 FROM api_keys")
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		md5, err1 := s.openValue(k.a, ha1Where("ha1_md5", k.key))
		sha, err2 := s.openValue(k.b, ha1Where("ha1_sha256", k.key))
		if err := errors.Join(err1, err2); err != nil {
			return 0, err
		}
		if done(k.a) && done(k.b) {
			continue
		}
		if _, err := r.exec(ctx, "UPDATE api_keys SET ha1_md5 = ?, ha1_sha256 = ? WHERE id = ?",
			s.sealValue(md5, ha1Where("ha1_md5", k.key)), s.sealValue(sha, ha1Where("ha1_sha256", k.key)), k.key); err != nil {
			return 0, err
		}
		n++
	}
	serverKeys, err := read("SELECT name, value, NULL FROM server_keys")
	if err != nil {
		return 0, err
	}
	for _, k := range serverKeys {
		if _, err := s.openValue(k.a, serverKeyWhere(k.key)); err != nil {
			return 0, err
		}
		if seal.IsSealed(k.a) {
			continue
		}
		if _, err := r.exec(ctx, "UPDATE server_keys SET value = ? WHERE name = ?",
			s.sealValue(k.a, serverKeyWhere(k.key)), k.key); err != nil {
			return 0, err
		}
		n++
	}
	backends, err := read("SELECT cluster_id, uri, NULL FROM cluster_backends")
	if err != nil {
		return 0, err
	}
	for _, b := range backends {
		uri, err := s.openValue(b.a, backendWhere(b.key))
		if err != nil {
			return 0, err
		}
		if done(b.a) {
			continue
		}
		if _, err := r.exec(ctx, "UPDATE cluster_backends SET uri = ? WHERE cluster_id = ?",
			s.sealValue(uri, backendWhere(b.key)), b.key); err != nil {
			return 0, err
		}
		n++
	}
	downloads, err := read("SELECT id, download_token, NULL FROM restore_jobs WHERE download_token IS NOT NULL AND delivery_type = ?",
		flexd.DeliveryDownload)
	if err != nil {
		return 0, err
	}
	for _, d := range downloads {
		if hexDigest.MatchString(d.a) {
			continue
		}
		j := &flexd.RestoreJob{ID: d.key, DownloadToken: d.a}
		if _, err := r.exec(ctx, "UPDATE restore_jobs SET download_token = ? WHERE id = ?", s.downloadToken(j), d.key); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}
