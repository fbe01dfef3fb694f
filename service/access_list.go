package service

import (
	"context"
	"net/netip"
	"unicode/utf8"

	"github.com/flexd/flexd"
)

// maxAccessListComment is the spec's maxLength for comment.
const maxAccessListComment = 80

// entryFromInput validates one entry of an access list create and returns
// it in canonical form: a single address becomes its /32 or /128 block and
// is kept as ipAddress, as Atlas shows it.
func entryFromInput(in flexd.AccessListInput) (flexd.AccessListEntry, error) {
	var e flexd.AccessListEntry
	switch {
	case in.AWSSecurityGroup != "":
		// flexd has no AWS, so no VPC peering: Atlas's answer to a
		// security group in a project without one.
		return e, flexd.CannotUseAWSSecurityGroupWithoutVPCPeeringConnection()
	case in.IPAddress != "" && in.CIDRBlock != "":
		return e, flexd.BadWhitelistAddRequest()
	case in.IPAddress != "":
		a, err := netip.ParseAddr(in.IPAddress)
		if err != nil || a.Zone() != "" || a.Is4In6() {
			return e, flexd.InvalidIPAddressOrCIDRNotation(in.IPAddress)
		}
		e.IPAddress = a.String()
		e.CIDRBlock = netip.PrefixFrom(a, a.BitLen()).String()
	case in.CIDRBlock != "":
		p, err := netip.ParsePrefix(in.CIDRBlock)
		// A block must be written as its first address: 10.0.0.1/8 is a
		// typo for something, not 10.0.0.0/8.
		if err != nil || p != p.Masked() || p.Addr().Is4In6() {
			return e, flexd.InvalidCIDRBlock(in.CIDRBlock)
		}
		e.CIDRBlock = p.String()
	default:
		return e, flexd.MissingAttribute("cidrBlock")
	}
	if utf8.RuneCountInString(in.Comment) > maxAccessListComment {
		return e, flexd.InvalidAttribute("comment")
	}
	e.Comment = in.Comment
	e.DeleteAfterDate = flexd.TimeOrZero(in.DeleteAfterDate)
	return e, nil
}

// entryKey turns a path's entryValue (a block, or a single address, as
// Atlas accepts both) into the block the entry is stored under; ok is
// false for anything else, which no entry can match.
func entryKey(entryValue string) (string, bool) {
	if p, err := netip.ParsePrefix(entryValue); err == nil {
		return p.String(), p == p.Masked()
	}
	if a, err := netip.ParseAddr(entryValue); err == nil && a.Zone() == "" {
		return netip.PrefixFrom(a, a.BitLen()).String(), true
	}
	return "", false
}

// ListAccessList lists the project's entries that have not expired.
func (s *Service) ListAccessList(ctx context.Context, groupID string, p flexd.Page) ([]flexd.AccessListEntry, int, error) {
	entries, total, err := s.store.ListAccessListEntries(ctx, groupID, s.clock.Now(), p)
	if err != nil {
		return nil, 0, internal("list access list", err)
	}
	return entries, total, nil
}

// AddAccessListEntries validates every entry, then adds them all; an entry
// already listed gets the new comment and deleteAfterDate. Expired entries
// are purged first, so one added again starts afresh.
func (s *Service) AddAccessListEntries(ctx context.Context, groupID string, in []flexd.AccessListInput) error {
	now := s.clock.Now()
	entries := make([]flexd.AccessListEntry, 0, len(in))
	seen := map[string]bool{}
	for _, i := range in {
		e, err := entryFromInput(i)
		if err != nil {
			return err
		}
		if err := checkDeleteAfter(e.DeleteAfterDate, now); err != nil {
			return err
		}
		if seen[e.CIDRBlock] {
			return flexd.DuplicateAddressesInInput()
		}
		seen[e.CIDRBlock] = true
		e.GroupID, e.Created = groupID, now
		entries = append(entries, e)
	}
	if len(entries) == 0 {
		return nil
	}
	if err := s.store.DeleteExpiredAccessListEntries(ctx, groupID, now); err != nil {
		return internal("purge expired access list entries", err)
	}
	if err := s.store.PutAccessListEntries(ctx, groupID, entries); err != nil {
		return projectErr("add access list entries", err, groupID)
	}
	return nil
}

// GetAccessListEntry returns the entry entryValue names; an expired one is
// gone.
func (s *Service) GetAccessListEntry(ctx context.Context, groupID, entryValue string) (*flexd.AccessListEntry, error) {
	key, ok := entryKey(entryValue)
	if !ok {
		return nil, accessListErr("", flexd.ErrNotFound, groupID, entryValue)
	}
	e, err := s.store.GetAccessListEntry(ctx, groupID, key)
	if err == nil && e.Expired(s.clock.Now()) {
		err = flexd.ErrNotFound
	}
	if err != nil {
		return nil, accessListErr("get access list entry", err, groupID, entryValue)
	}
	return e, nil
}

// DeleteAccessListEntry removes the entry entryValue names.
func (s *Service) DeleteAccessListEntry(ctx context.Context, groupID, entryValue string) error {
	key, ok := entryKey(entryValue)
	if !ok {
		return accessListErr("", flexd.ErrNotFound, groupID, entryValue)
	}
	if err := s.store.DeleteExpiredAccessListEntries(ctx, groupID, s.clock.Now()); err != nil {
		return internal("purge expired access list entries", err)
	}
	if err := s.store.DeleteAccessListEntry(ctx, groupID, key); err != nil {
		return accessListErr("delete access list entry", err, groupID, entryValue)
	}
	if s.cfg.Access != nil {
		s.cfg.Access.AccessListChanged(groupID)
	}
	return nil
}

// accessListErr answers a store error about the entry entryValue names in
// project groupID: ATLAS_NETWORK_PERMISSION_ENTRY_NOT_FOUND when there is
// no such entry (a value that names none included), otherwise a failure of
// op.
func accessListErr(op string, err error, groupID, entryValue string) error {
	if isNotFound(err) {
		return flexd.AtlasNetworkPermissionEntryNotFound(entryValue, groupID)
	}
	return internal(op, err)
}
