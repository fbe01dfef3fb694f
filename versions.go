package flexd

// Parent names a unit of stored state that caches are invalidated by: a
// write changes the parents of the rows it writes, and a cached read
// depends on the parents of the rows it read. There are three kinds:
//
//   - a project: its row and which clusters it has (a cluster created,
//     renamed or deleted);
//   - a cluster: its row, its snapshots and its restore jobs;
//   - a credential: an API key or a service account, with its grants, its
//     secrets and the access tokens issued to it.
//
// The zero Parent stands for everything, for the rare write that may touch
// any row (a reset of whole organizations).
type Parent struct {
	Kind ParentKind
	ID   string
}

// ParentKind is the kind of a Parent.
type ParentKind uint8

// Parent kinds.
const (
	ParentProject ParentKind = iota + 1
	ParentCluster
	ParentCredential
)

// ProjectParent is the project with id.
func ProjectParent(id string) Parent { return Parent{ParentProject, id} }

// ClusterParent is the cluster with id (its id, not its name).
func ClusterParent(id string) Parent { return Parent{ParentCluster, id} }

// CredentialParent is the API key with id, or the service account with
// client id id.
func CredentialParent(id string) Parent { return Parent{ParentCredential, id} }

// Versions is the explicit contract between a store's writes and the
// caches in front of it. Every committed write moves the store's write
// order on and records, per parent it changed, the point at which it last
// changed. A cache takes a Mark before it reads, keeps the mark with what
// it read, and may answer from that entry later only while ChangedSince
// reports false for every parent the entry depends on.
//
// Because the mark is taken before the read and a parent is recorded only
// after its write committed, a read that raced a write is stale at once,
// never a moment later; and since parents are checked against a mark
// rather than compared by value, an entry may learn its parents from what
// it read (an access token's service account, an API key's id).
type Versions interface {
	// Mark is the current point of the write order.
	Mark() uint64
	// ChangedSince reports whether any of parents (or everything) changed
	// after mark.
	ChangedSince(mark uint64, parents ...Parent) bool
}
