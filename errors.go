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
	"CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API":  {400, "Cannot use non-flex cluster %v in the flex API."},
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
	"API_KEY_CAN_ONLY_BELONG_TO_ONE_ORG":                           {400, "API keys may only belong to a single organization."},
	"SERVICE_ACCOUNT_NOT_FOUND":                                    {404, "Service Account with client ID %v not found."},
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
}

// Errorf builds the Atlas error for code, filling its detail template with
// params. An unknown code is a programming error and panics in tests quickly.
func Errorf(code string, params ...any) *Error {
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
