package dbauth_test

import (
	"crypto/md5"
	"encoding/hex"

	"github.com/flexd/flexd"
)

// mongoPasswordDigest is the driver's SCRAM-SHA-1 password, computed here
// independently of dbauth.
func mongoPasswordDigest(username, password string) string {
	h := md5.Sum([]byte(username + ":mongo:" + password))
	return hex.EncodeToString(h[:])
}

func entry(block string) flexd.AccessListEntry { return flexd.AccessListEntry{CIDRBlock: block} }
