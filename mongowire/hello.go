package mongowire

import (
	"context"
	"encoding/binary"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// hello answers a hello (or isMaster) on a front with an Authenticator.
// The backend answers it, but not the two fields that belong to
// authentication, which the front answers itself: saslSupportedMechs (the
// mechanisms of Options.Mechanisms, whatever user is named, so that the
// answer tells no one which users exist) and speculativeAuthenticate (the
// Authenticator's saslStart, which saves a driver a round trip; a failed
// one leaves the field out and the driver runs saslStart, as MongoDB
// does). FerretDB never sees either: it would run its own authentication.
func (c *clientConn) hello(ctx context.Context, req message, doc bson.Raw) error {
	_, askMechs := doc.Lookup("saslSupportedMechs").StringValueOK()
	spec, askSpec := doc.Lookup("speculativeAuthenticate").DocumentOK()
	if !askMechs && !askSpec {
		return c.forward(ctx, req, false, nil)
	}
	var extra bson.D
	if askMechs && len(c.f.opts.Mechanisms) > 0 {
		mechs := make(bson.A, len(c.f.opts.Mechanisms))
		for i, m := range c.f.opts.Mechanisms {
			mechs[i] = m
		}
		extra = append(extra, bson.E{Key: "saslSupportedMechs", Value: mechs})
	}
	if askSpec {
		db, _ := spec.Lookup("db").StringValueOK()
		reply, err := c.f.opts.Auth.Authenticate(ctx, c.s, db, "saslStart", spec)
		c.publishUser()
		if err == nil {
			var r bson.D
			if bson.Unmarshal(reply, &r) == nil {
				extra = append(extra, bson.E{Key: "speculativeAuthenticate", Value: without(r, "ok")})
			}
		}
	}
	var cmd bson.D
	if err := bson.Unmarshal(doc, &cmd); err != nil {
		return c.replyError(req, codeIllegalOperation, "flexd: malformed hello")
	}
	body, err := bson.Marshal(without(cmd, "saslSupportedMechs", "speculativeAuthenticate"))
	if err != nil {
		return err
	}
	out := newOpMsg(req.requestID(), 0, body, nil)
	if req.opCode() == opQuery {
		out = replaceQuery(req, body)
	}
	return c.forward(ctx, out, false, func(reply message) (message, error) {
		return addToReply(reply, req.requestID(), extra), nil
	})
}

// without returns d less the named fields.
func without(d bson.D, keys ...string) bson.D {
	out := make(bson.D, 0, len(d))
	for _, e := range d {
		drop := false
		for _, k := range keys {
			drop = drop || e.Key == k
		}
		if !drop {
			out = append(out, e)
		}
	}
	return out
}

// replaceQuery is an OP_QUERY with its query document replaced by doc
// (and no field selector).
func replaceQuery(req message, doc []byte) message {
	rest := req[20:]
	i := indexByte(rest, 0)
	head := req[:20+i+9] // header, flags, collection name, skip, return
	b := make([]byte, 0, len(head)+len(doc))
	b = append(b, head...)
	b = append(b, doc...)
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	return b
}

// addToReply adds extra to a successful hello reply (OP_MSG or OP_REPLY),
// before its "ok"; an error reply, or one it cannot read, goes as it came.
func addToReply(reply message, responseTo int32, extra bson.D) message {
	if len(extra) == 0 {
		return reply
	}
	var doc bson.Raw
	var err error
	switch reply.opCode() {
	case opMsg:
		doc, _, err = reply.opMsgBody()
	case opReply:
		if len(reply) < 36 {
			return reply
		}
		doc, err = rawDoc(reply[36:])
	default:
		return reply
	}
	if err != nil {
		return reply
	}
	var d bson.D
	if bson.Unmarshal(doc, &d) != nil {
		return reply
	}
	ok, isOK := doc.Lookup("ok").AsFloat64OK()
	if !isOK || ok != 1 {
		return reply
	}
	names := make([]string, 0, len(extra)+1)
	for _, e := range extra {
		names = append(names, e.Key)
	}
	d = append(append(without(d, append(names, "ok")...), extra...), bson.E{Key: "ok", Value: 1.0})
	b, err := bson.Marshal(d)
	if err != nil {
		return reply
	}
	if reply.opCode() == opReply {
		return newOpReply(reply.requestID(), responseTo, b)
	}
	return newOpMsg(reply.requestID(), responseTo, b, nil)
}
