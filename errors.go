package flexd

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Storage-level sentinels. Stores return these (possibly wrapped); the service
// layer turns them into Atlas errors that name the resource.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrNotEmpty = errors.New("not empty")
)

// Error is an Atlas API error: an errorCode, the HTTP status Atlas answers
// with, and the parameters substituted into the code's detail template.
type Error struct {
	Status     int
	Code       string
	Detail     string
	Parameters []any
	// RetryAfter, when set on a 429 or 503, is sent as the Retry-After
	// header: Atlas clients back off by it.
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Code + ": " + e.Detail }

// errorDef is one row of the catalogue in ATLAS-ERRORS.md.
type errorDef struct {
	status   int
	template string // %v placeholders, filled from the parameters in order
}

// catalogue keeps Atlas's detail templates byte-exact: clients and humans
// grep on them.
var catalogue = map[string]errorDef{
	"UNEXPECTED_ERROR":                         {500, "Unexpected error."},
	"USER_UNAUTHORIZED":                        {401, "Current user is not authorized to perform this action."},
	"NOT_IN_GROUP":                             {401, "The current user is not in the group, or the group does not exist."},
	"USER_CANNOT_ACCESS_ORG":                   {401, "User cannot access this organization."},
	"INVALID_GROUP_ID":                         {404, "An invalid group ID %v was specified."},
	"INVALID_ORG_ID":                           {404, "An invalid organization ID %v was specified."},
	"INVALID_PATH_PARAMETER":                   {400, "Invalid path parameter %v specified."},
	"INVALID_QUERY_PARAMETER":                  {400, "Invalid query parameter %v specified."},
	"MALFORMED_JSON":                           {400, "Received JSON is malformed."},
	"INVALID_JSON":                             {400, "Received JSON does not match expected format."},
	"INVALID_JSON_ATTRIBUTE":                   {400, "Received JSON for the %v attribute does not match expected format."},
	"INVALID_ATTRIBUTE":                        {400, "Invalid attribute %v specified."},
	"MISSING_ATTRIBUTE":                        {400, "The required attribute %v was not specified."},
	"INVALID_ENUM_VALUE":                       {400, "An invalid enumeration value %v was specified."},
	"VALIDATION_ERROR":                         {400, "The request content produced the validation error: %v."},
	"INVALID_VERSION_DATE":                     {406, "Invalid accept header or version date."},
	"RESOURCE_NOT_FOUND":                       {404, "Cannot find resource %v."},
	"RATE_LIMITED":                             {429, "Resource %v is limited to %v requests every %v minutes."},
	"SERVICE_UNAVAILABLE":                      {503, "Service is unavailable, please try again later."},
	"ORG_NOT_FOUND":                            {404, "No organization with ID %v exists."},
	"INVALID_ORG_NAME":                         {400, "An invalid org name \"%v\" was specified."},
	"ORG_NOT_EMPTY":                            {409, "Organization cannot be deleted because it still contains active groups."},
	"GROUP_NOT_FOUND":                          {404, "No group with ID %v exists."},
	"GROUP_ALREADY_EXISTS":                     {409, "A group with name \"%v\" already exists."},
	"INVALID_GROUP_NAME":                       {400, "An invalid group name \"%v\" was specified."},
	"NOT_ORG_GROUP_CREATOR":                    {401, "The currently logged in user does not have the group creator role in organization %v."},
	"CANNOT_CLOSE_GROUP_ACTIVE_ATLAS_CLUSTERS": {409, "Cannot close group while it has active clusters; please terminate all clusters."},
	"CLUSTER_NOT_FOUND":                        {404, "No cluster named %v exists in group %v."},
	"CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API":   {400, "Flex cluster %v cannot be used in the Cluster API."},
	"DUPLICATE_CLUSTER_NAME":                   {400, "A cluster named %v is already present in group %v."},
	"CLUSTER_NAME_INVALID":                     {400, "The cluster name %v is invalid. The name can only contain ASCII letters, numbers, and hyphens."},
	"CLUSTER_NAME_TOO_LONG":                    {400, "Cluster name %v is limited to %v characters."},
	"CANNOT_TERMINATE_CLUSTER_WHEN_TERMINATION_PROTECTION_ENABLED": {400, "Cannot terminate a cluster when termination protection is enabled. Disable termination protection and try again."},
	"CLUSTER_ALREADY_REQUESTED_DELETION":                           {400, "The cluster %v has already been requested for deletion."},
	"INVALID_PROVIDER":                                             {400, "No provider %v exists."},
	"INVALID_REGION":                                               {400, "No region %v exists for provider %v."},
	"FEATURE_UNSUPPORTED":                                          {400, "Feature not supported: %v"},
	"SNAPSHOT_NOT_FOUND":                                           {404, "No snapshot with ID %v exists for cluster %v."},
	"RESTORE_JOB_NOT_FOUND":                                        {404, "No restore job with ID %v exists for cluster %v."},
	"CANNOT_START_RESTORE_JOB_FOR_INCOMPLETE_CLUSTER_SNAPSHOT":     {409, "Cannot start restore job for incomplete cluster snapshot."},
	"CANNOT_DOWNLOAD_INCOMPLETE_SNAPSHOT":                          {409, "Cannot download incomplete cluster snapshot."},
	"API_KEY_NOT_FOUND":                                            {400, "No API key with ID %v exists."},
	"API_KEY_REQUIRES_DESCRIPTION":                                 {400, "All API keys require a non-empty description."},
	"INVALID_API_KEY_DESC":                                         {400, "API key descriptions are required and must be less than %v characters."},
	"MISSING_API_KEY_ROLES":                                        {400, "API keys must have at least one role."},
	"INVALID_ROLE_FOR_ORG":                                         {400, "Role %v invalid for organization %v."},
	"INVALID_ROLE_FOR_GROUP":                                       {400, "Role %v is invalid for group %v."},
	"SERVICE_ACCOUNT_NOT_FOUND":                                    {404, "Service Account with client ID %v not found."},
	// flexd's own: a drill snapshot of a cluster that is still being
	// created has nothing to capture yet (README, "Lifecycle rules").
	"CANNOT_TAKE_SNAPSHOT_OF_CREATING_CLUSTER": {400, "Cannot take a snapshot of cluster %v while it is being created; try again once its stateName is IDLE."},
	// Database users and the project IP access list (DOC: Atlas's error
	// code page; ATLAS_NETWORK_PERMISSION_ENTRY_NOT_FOUND's wording as
	// recorded from real Atlas, which says "access list" where the page
	// still says "whitelist").
	"GROUP_MISMATCH":                                               {400, "The specified group ID %v does not match the URL."},
	"USERNAME_NOT_FOUND":                                           {404, "No user with username %v exists."},
	"USER_ALREADY_EXISTS":                                          {409, "A user with username %v already exists."},
	"ATLAS_INVALID_USERNAME":                                       {400, "The specified username %v is not valid for an Atlas database user."},
	"ATLAS_INVALID_ROLE":                                           {400, "The specified role %v@%v does not exist."},
	"ATLAS_RESTRICTED_ROLE":                                        {400, "The specified role %v@%v is restricted."},
	"ATLAS_INVALID_ROLE_DATABASE":                                  {400, "The specified role %v only exists for database %v."},
	"DUPLICATE_DATABASE_ROLES":                                     {400, "Duplicate database roles specified for user %v: %v."},
	"INVALID_DATABASE_NAME":                                        {400, "Invalid database name specified: %v."},
	"INVALID_COLLECTION_NAME":                                      {400, "Invalid collection names specified: %v."},
	"DATABASE_NAME_INVALID_ADMIN":                                  {400, "Database name invalid. %v can only be created on the admin database."},
	"DATABASE_USERNAME_CANNOT_BE_CHANGED":                          {409, "Cannot modify the username of an existing database user."},
	"DATABASE_NAME_CANNOT_BE_CHANGED":                              {409, "Cannot modify the authentication database of an existing database user."},
	"AUTH_TYPE_CANNOT_BE_CHANGED":                                  {409, "Cannot modify the authentication type of an existing database user."},
	"EXPIRATION_DATE_IN_PAST":                                      {400, "The specified expiration date must be in the future."},
	"EXPIRATION_DATE_EXCEEDS_MAX":                                  {400, "The specified expiration date can be at most %v days in the future."},
	"ATLAS_NETWORK_PERMISSION_ENTRY_NOT_FOUND":                     {404, "IP Address %v not on Atlas access list for group %v."},
	"INVALID_IP_ADDRESS_OR_CIDR_NOTATION":                          {400, "The address %v must be in valid IP address or CIDR notation."},
	"INVALID_CIDR_BLOCK":                                           {400, "The cidr block %v must be in valid CIDR notation."},
	"BAD_WHITELIST_ADD_REQUEST":                                    {400, "Should not specify both the IP address and the CIDR block."},
	"DUPLICATE_ADDRESSES_IN_INPUT":                                 {400, "Two or more of the IP addresses being added to the whitelist are the same."},
	"CANNOT_USE_AWS_SECURITY_GROUP_WITHOUT_VPC_PEERING_CONNECTION": {400, "Cannot use aws security groups as whitelist entries without a vpc peering connection."},
	// flexd's own: the default organization holds the instance
	// administrators and the projects created without an orgId.
	"CANNOT_DELETE_DEFAULT_ORG": {409, "Organization %v is flexd's default organization and cannot be deleted."},
	// flexd's own: a snapshot download link past its expirationDate.
	"DOWNLOAD_LINK_EXPIRED": {410, "The download link expired at %v; request a new one with POST .../backup/download."},
	// flexd's own: attaching an external MongoDB deployment to a cluster
	// (PUT /_flexd/…/backend). The details never repeat the URI.
	"INVALID_BACKEND_URI":                       {400, "The backend URI is not a usable MongoDB connection string: %v."},
	"BACKEND_UNREACHABLE":                       {400, "Cannot use the MongoDB deployment at %v as a backend: %v."},
	"CANNOT_CHANGE_BACKEND_OF_CLUSTER_NOT_IDLE": {409, "Cannot change the backend of cluster %v while its stateName is %v; try again once it is IDLE."},
}

// The constructors below are the only way to build a catalogued error, so the
// compiler checks every call's parameters (errors_test.go checks each one
// against its template).

// UnexpectedError answers a failure the client cannot act on; the cause
// goes to the log, never to the client.
func UnexpectedError() *Error { return newError("UNEXPECTED_ERROR") }

// UserUnauthorized answers a caller whose roles do not allow the action.
func UserUnauthorized() *Error { return newError("USER_UNAUTHORIZED") }

// NotInGroup answers a caller with no role in the project.
func NotInGroup() *Error { return newError("NOT_IN_GROUP") }

// UserCannotAccessOrg answers a caller with no role in the organization.
func UserCannotAccessOrg() *Error { return newError("USER_CANNOT_ACCESS_ORG") }

// InvalidGroupID answers a project id that is not 24 hex digits.
func InvalidGroupID(groupID string) *Error { return newError("INVALID_GROUP_ID", groupID) }

// InvalidOrgID answers an organization id that is not 24 hex digits.
func InvalidOrgID(orgID string) *Error { return newError("INVALID_ORG_ID", orgID) }

// InvalidPathParameter answers a malformed path parameter, named as in the
// route.
func InvalidPathParameter(name string) *Error { return newError("INVALID_PATH_PARAMETER", name) }

// InvalidQueryParameter answers a malformed query parameter.
func InvalidQueryParameter(name string) *Error { return newError("INVALID_QUERY_PARAMETER", name) }

// MalformedJSON answers a body that does not parse as JSON.
func MalformedJSON() *Error { return newError("MALFORMED_JSON") }

// InvalidJSON answers a body that parses but is not the expected kind of
// JSON value.
func InvalidJSON() *Error { return newError("INVALID_JSON") }

// InvalidJSONAttribute answers a value of the wrong JSON type at the dotted
// path.
func InvalidJSONAttribute(path string) *Error { return newError("INVALID_JSON_ATTRIBUTE", path) }

// InvalidAttribute answers an unknown or invalid attribute, named by its
// dotted path.
func InvalidAttribute(path string) *Error { return newError("INVALID_ATTRIBUTE", path) }

// MissingAttribute answers a required attribute that is absent or null.
func MissingAttribute(name string) *Error { return newError("MISSING_ATTRIBUTE", name) }

// InvalidEnumValue answers a value outside an enumeration.
func InvalidEnumValue(value string) *Error { return newError("INVALID_ENUM_VALUE", value) }

// ValidationError answers a body that breaks a rule no more specific code
// names.
func ValidationError(problem string) *Error { return newError("VALIDATION_ERROR", problem) }

// InvalidVersionDate answers an Accept header naming no version this route
// has.
func InvalidVersionDate() *Error { return newError("INVALID_VERSION_DATE") }

// ResourceNotFound answers a resource with no not-found code of its own.
func ResourceNotFound(resource string) *Error { return newError("RESOURCE_NOT_FOUND", resource) }

// RateLimited answers a caller over its budget of limit requests every
// minutes minutes.
func RateLimited(resource string, limit, minutes int) *Error {
	return newError("RATE_LIMITED", resource, limit, minutes)
}

// ServiceUnavailable answers while flexd cannot serve, e.g. its store is
// unreachable.
func ServiceUnavailable() *Error { return newError("SERVICE_UNAVAILABLE") }

// OrgNotFound answers an organization that does not exist.
func OrgNotFound(orgID string) *Error { return newError("ORG_NOT_FOUND", orgID) }

// InvalidOrgName answers an organization name Atlas would refuse.
func InvalidOrgName(name string) *Error { return newError("INVALID_ORG_NAME", name) }

// OrgNotEmpty answers deleting an organization that still has projects.
func OrgNotEmpty() *Error { return newError("ORG_NOT_EMPTY") }

// GroupNotFound answers a project that does not exist.
func GroupNotFound(groupID string) *Error { return newError("GROUP_NOT_FOUND", groupID) }

// GroupAlreadyExists answers a project name already taken in its
// organization.
func GroupAlreadyExists(name string) *Error { return newError("GROUP_ALREADY_EXISTS", name) }

// InvalidGroupName answers a project name Atlas would refuse.
func InvalidGroupName(name string) *Error { return newError("INVALID_GROUP_NAME", name) }

// NotOrgGroupCreator answers creating a project in an organization where
// the caller may not.
func NotOrgGroupCreator(orgID string) *Error { return newError("NOT_ORG_GROUP_CREATOR", orgID) }

// CannotCloseGroupActiveAtlasClusters answers deleting a project that still
// has clusters.
func CannotCloseGroupActiveAtlasClusters() *Error {
	return newError("CANNOT_CLOSE_GROUP_ACTIVE_ATLAS_CLUSTERS")
}

// ClusterNotFound answers a cluster that does not exist in the project.
func ClusterNotFound(name, groupID string) *Error {
	return newError("CLUSTER_NOT_FOUND", name, groupID)
}

// CannotUseFlexClusterInClusterAPI answers a Flex cluster read through the
// dedicated-cluster API: clients take it as "use the Flex API".
func CannotUseFlexClusterInClusterAPI(name string) *Error {
	return newError("CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API", name)
}

// DuplicateClusterName answers a cluster name already taken in the project.
func DuplicateClusterName(name, groupID string) *Error {
	return newError("DUPLICATE_CLUSTER_NAME", name, groupID)
}

// ClusterNameInvalid answers a cluster name with characters Atlas refuses.
func ClusterNameInvalid(name string) *Error { return newError("CLUSTER_NAME_INVALID", name) }

// ClusterNameTooLong answers a cluster name longer than maxLen characters.
func ClusterNameTooLong(name string, maxLen int) *Error {
	return newError("CLUSTER_NAME_TOO_LONG", name, maxLen)
}

// CannotTerminateClusterWhenTerminationProtectionEnabled answers deleting a
// cluster with termination protection. Atlas's one parameter is a sentence
// of its own, not a value of the template.
func CannotTerminateClusterWhenTerminationProtectionEnabled(name, groupID string) *Error {
	return newError("CANNOT_TERMINATE_CLUSTER_WHEN_TERMINATION_PROTECTION_ENABLED", fmt.Sprintf(
		"Cannot terminate cluster %s in group %s because termination protection is enabled. Disable termination protection and try again.",
		name, groupID))
}

// ClusterAlreadyRequestedDeletion answers a change to a cluster that is
// being deleted.
func ClusterAlreadyRequestedDeletion(name string) *Error {
	return newError("CLUSTER_ALREADY_REQUESTED_DELETION", name)
}

// InvalidProvider answers an unknown backing provider.
func InvalidProvider(provider string) *Error { return newError("INVALID_PROVIDER", provider) }

// InvalidRegion answers a region the provider does not have.
func InvalidRegion(region, provider string) *Error {
	return newError("INVALID_REGION", region, provider)
}

// FeatureUnsupported answers something flexd does not do; what says what
// and, where it can, what to do instead.
func FeatureUnsupported(what string) *Error { return newError("FEATURE_UNSUPPORTED", what) }

// SnapshotNotFound answers a snapshot the cluster does not have.
func SnapshotNotFound(snapshotID, clusterName string) *Error {
	return newError("SNAPSHOT_NOT_FOUND", snapshotID, clusterName)
}

// RestoreJobNotFound answers a restore job the cluster does not have.
func RestoreJobNotFound(restoreJobID, clusterName string) *Error {
	return newError("RESTORE_JOB_NOT_FOUND", restoreJobID, clusterName)
}

// CannotStartRestoreJobForIncompleteClusterSnapshot answers restoring from
// a snapshot that is not COMPLETED.
func CannotStartRestoreJobForIncompleteClusterSnapshot() *Error {
	return newError("CANNOT_START_RESTORE_JOB_FOR_INCOMPLETE_CLUSTER_SNAPSHOT")
}

// CannotDownloadIncompleteSnapshot answers downloading a snapshot that is
// not COMPLETED.
func CannotDownloadIncompleteSnapshot() *Error {
	return newError("CANNOT_DOWNLOAD_INCOMPLETE_SNAPSHOT")
}

// APIKeyNotFound answers an API key that does not exist or belongs to
// another organization. Atlas answers it with 400, not 404.
func APIKeyNotFound(apiKeyID string) *Error { return newError("API_KEY_NOT_FOUND", apiKeyID) }

// APIKeyRequiresDescription answers an API key without a description.
func APIKeyRequiresDescription() *Error { return newError("API_KEY_REQUIRES_DESCRIPTION") }

// InvalidAPIKeyDesc answers an API key description longer than maxLen
// characters.
func InvalidAPIKeyDesc(maxLen int) *Error { return newError("INVALID_API_KEY_DESC", maxLen) }

// MissingAPIKeyRoles answers an API key without roles.
func MissingAPIKeyRoles() *Error { return newError("MISSING_API_KEY_ROLES") }

// InvalidRoleForOrg answers a role that is not an organization role.
func InvalidRoleForOrg(role Role, orgID string) *Error {
	return newError("INVALID_ROLE_FOR_ORG", string(role), orgID)
}

// InvalidRoleForGroup answers a role that is not a project role.
func InvalidRoleForGroup(role Role, groupID string) *Error {
	return newError("INVALID_ROLE_FOR_GROUP", string(role), groupID)
}

// ServiceAccountNotFound answers a service account that does not exist or
// belongs to another organization.
func ServiceAccountNotFound(clientID string) *Error {
	return newError("SERVICE_ACCOUNT_NOT_FOUND", clientID)
}

// CannotTakeSnapshotOfCreatingCluster answers a drill snapshot of a cluster
// still being created.
func CannotTakeSnapshotOfCreatingCluster(name string) *Error {
	return newError("CANNOT_TAKE_SNAPSHOT_OF_CREATING_CLUSTER", name)
}

// GroupMismatch answers a body whose groupId is not the project in the
// path.
func GroupMismatch(groupID string) *Error { return newError("GROUP_MISMATCH", groupID) }

// UsernameNotFound answers a database user that does not exist.
func UsernameNotFound(username string) *Error { return newError("USERNAME_NOT_FOUND", username) }

// UserAlreadyExists answers a database username already taken in the
// project.
func UserAlreadyExists(username string) *Error { return newError("USER_ALREADY_EXISTS", username) }

// AtlasInvalidUsername answers a database username Atlas refuses.
func AtlasInvalidUsername(username string) *Error {
	return newError("ATLAS_INVALID_USERNAME", username)
}

// AtlasInvalidRole answers a database role that does not exist.
func AtlasInvalidRole(role, database string) *Error {
	return newError("ATLAS_INVALID_ROLE", role, database)
}

// AtlasRestrictedRole answers a database role Atlas keeps to itself.
func AtlasRestrictedRole(role, database string) *Error {
	return newError("ATLAS_RESTRICTED_ROLE", role, database)
}

// AtlasInvalidRoleDatabase answers a database role granted on a database
// other than the only one it exists on.
func AtlasInvalidRoleDatabase(role, database string) *Error {
	return newError("ATLAS_INVALID_ROLE_DATABASE", role, database)
}

// DuplicateDatabaseRoles answers a database user granted the same role
// twice.
func DuplicateDatabaseRoles(username, role string) *Error {
	return newError("DUPLICATE_DATABASE_ROLES", username, role)
}

// InvalidDatabaseName answers a database name MongoDB refuses.
func InvalidDatabaseName(database string) *Error { return newError("INVALID_DATABASE_NAME", database) }

// InvalidCollectionName answers a collection name MongoDB refuses.
func InvalidCollectionName(collection string) *Error {
	return newError("INVALID_COLLECTION_NAME", collection)
}

// DatabaseNameInvalidAdmin answers users that must authenticate against
// admin and name another database.
func DatabaseNameInvalidAdmin(users string) *Error {
	return newError("DATABASE_NAME_INVALID_ADMIN", users)
}

// DatabaseUsernameCannotBeChanged answers a PATCH that renames a database
// user.
func DatabaseUsernameCannotBeChanged() *Error { return newError("DATABASE_USERNAME_CANNOT_BE_CHANGED") }

// DatabaseNameCannotBeChanged answers a PATCH that changes a database
// user's authentication database.
func DatabaseNameCannotBeChanged() *Error { return newError("DATABASE_NAME_CANNOT_BE_CHANGED") }

// AuthTypeCannotBeChanged answers a PATCH that changes a database user's
// authentication type.
func AuthTypeCannotBeChanged() *Error { return newError("AUTH_TYPE_CANNOT_BE_CHANGED") }

// ExpirationDateInPast answers a deleteAfterDate in the past.
func ExpirationDateInPast() *Error { return newError("EXPIRATION_DATE_IN_PAST") }

// ExpirationDateExceedsMax answers a deleteAfterDate more than maxDays days
// ahead.
func ExpirationDateExceedsMax(maxDays int) *Error {
	return newError("EXPIRATION_DATE_EXCEEDS_MAX", maxDays)
}

// AtlasNetworkPermissionEntryNotFound answers an address or CIDR block not
// on the project's access list.
func AtlasNetworkPermissionEntryNotFound(entry, groupID string) *Error {
	return newError("ATLAS_NETWORK_PERMISSION_ENTRY_NOT_FOUND", entry, groupID)
}

// InvalidIPAddressOrCIDRNotation answers an ipAddress that is not an IP
// address.
func InvalidIPAddressOrCIDRNotation(address string) *Error {
	return newError("INVALID_IP_ADDRESS_OR_CIDR_NOTATION", address)
}

// InvalidCIDRBlock answers a cidrBlock that is not a CIDR block.
func InvalidCIDRBlock(cidrBlock string) *Error { return newError("INVALID_CIDR_BLOCK", cidrBlock) }

// BadWhitelistAddRequest answers an access list entry with both ipAddress
// and cidrBlock.
func BadWhitelistAddRequest() *Error { return newError("BAD_WHITELIST_ADD_REQUEST") }

// DuplicateAddressesInInput answers one POST adding the same access list
// entry twice.
func DuplicateAddressesInInput() *Error { return newError("DUPLICATE_ADDRESSES_IN_INPUT") }

// CannotUseAWSSecurityGroupWithoutVPCPeeringConnection answers an access
// list entry naming an AWS security group: Flex clusters have no VPC
// peering.
func CannotUseAWSSecurityGroupWithoutVPCPeeringConnection() *Error {
	return newError("CANNOT_USE_AWS_SECURITY_GROUP_WITHOUT_VPC_PEERING_CONNECTION")
}

// CannotDeleteDefaultOrg answers deleting flexd's default organization.
func CannotDeleteDefaultOrg(orgID string) *Error { return newError("CANNOT_DELETE_DEFAULT_ORG", orgID) }

// DownloadLinkExpired answers a snapshot download link past its
// expirationDate.
func DownloadLinkExpired(expiredAt time.Time) *Error {
	return newError("DOWNLOAD_LINK_EXPIRED", expiredAt.Format(time.RFC3339))
}

// newError builds the Atlas error for code, filling its detail template
// with params in order. Only the constructors above call it with a literal
// code; errors_test.go checks each against the catalogue.
func newError(code string, params ...any) *Error {
	def, ok := catalogue[code]
	if !ok {
		panic("flexd: unknown error code " + code)
	}
	detail := def.template
	if strings.Contains(detail, "%v") {
		detail = fmt.Sprintf(detail, params...)
	}
	if params == nil {
		params = []any{}
	}
	return &Error{Status: def.status, Code: code, Detail: detail, Parameters: params}
}

// ErrorWithStatus builds a framework-level error (unknown path, wrong
// method, body too large) that has no code of its own: Atlas answers those
// with UNEXPECTED_ERROR and the real status.
func ErrorWithStatus(status int, detail string) *Error {
	return &Error{Status: status, Code: "UNEXPECTED_ERROR", Detail: detail, Parameters: []any{}}
}

// AsError returns err as an Atlas error, or nil when it is not one.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// InvalidBackendURI answers a backend URI that is not a MongoDB connection
// string flexd can use; reason says why without repeating the URI.
func InvalidBackendURI(reason string) *Error { return newError("INVALID_BACKEND_URI", reason) }

// BackendUnreachable answers a deployment that could not be connected to,
// authenticated with or listed; hosts carries no credentials.
func BackendUnreachable(hosts, reason string) *Error {
	return newError("BACKEND_UNREACHABLE", hosts, reason)
}

// CannotChangeBackendOfClusterNotIdle answers attaching or detaching a
// backend while the cluster is being created, updated or restored.
func CannotChangeBackendOfClusterNotIdle(name string, state ClusterState) *Error {
	return newError("CANNOT_CHANGE_BACKEND_OF_CLUSTER_NOT_IDLE", name, string(state))
}
