package sqlstore

import (
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"github.com/flexd/flexd"
)

// Column codecs: how the domain's times, tags and optional strings are
// written to and read from their columns, the same way on every dialect.

// unixSeconds is the value stored for t: unix seconds, 0 for the zero time.
// Sub-second parts are dropped because Atlas timestamps carry whole seconds.
func unixSeconds(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// wholeSecondUTC is t as it reads back from the store: UTC, whole seconds,
// zero for zero. Creates apply it to the caller's struct so that the struct
// matches what a later Get returns.
func wholeSecondUTC(t time.Time) time.Time {
	return flexd.TimeOrZero(t.Truncate(time.Second))
}

// wholeSecondsUTC applies wholeSecondUTC to each of ts in place.
func wholeSecondsUTC(ts ...*time.Time) {
	for _, t := range ts {
		*t = wholeSecondUTC(*t)
	}
}

// unixTime scans a unix-seconds column into a time.Time in UTC. The unix
// epoch itself therefore reads back as the zero time.
type unixTime struct{ t *time.Time }

func (u unixTime) Scan(src any) error {
	var n sql.NullInt64
	if err := n.Scan(src); err != nil {
		return err
	}
	if !n.Valid || n.Int64 == 0 {
		*u.t = time.Time{}
		return nil
	}
	*u.t = time.Unix(n.Int64, 0).UTC()
	return nil
}

// tagJSON is a tag as stored: the wire's field names, so the column reads
// naturally to an operator.
type tagJSON struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// tagsValue encodes tags for the tags column. No tags, nil or empty, are
// stored as "[]".
type tagsValue []flexd.Tag

func (v tagsValue) Value() (driver.Value, error) {
	out := make([]tagJSON, len(v))
	for i, t := range v {
		out[i] = tagJSON(t)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// tagsColumn scans the tags column. No tags read back as nil, never as an
// empty slice, so a nil and an empty slice written both compare equal to
// what is read.
type tagsColumn struct{ tags *[]flexd.Tag }

func (c tagsColumn) Scan(src any) error {
	var s sql.NullString
	if err := s.Scan(src); err != nil {
		return err
	}
	*c.tags = nil
	if !s.Valid || s.String == "" {
		return nil
	}
	var in []tagJSON
	if err := json.Unmarshal([]byte(s.String), &in); err != nil {
		return fmt.Errorf("decode tags: %w", err)
	}
	if len(in) == 0 {
		return nil
	}
	tags := make([]flexd.Tag, len(in))
	for i, t := range in {
		tags[i] = flexd.Tag(t)
	}
	*c.tags = tags
	return nil
}

// normalTags is tags as they read back: nil when there are none.
func normalTags(tags []flexd.Tag) []flexd.Tag {
	if len(tags) == 0 {
		return nil
	}
	return tags
}

// nullIfEmpty stores an empty string as NULL, for columns whose unique
// index must ignore rows without a value (restore_jobs.download_token).
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// emptyIfNull scans a nullable text column into a string, NULL as "".
type emptyIfNull struct{ s *string }

func (e emptyIfNull) Scan(src any) error {
	var n sql.NullString
	if err := n.Scan(src); err != nil {
		return err
	}
	*e.s = n.String
	return nil
}
