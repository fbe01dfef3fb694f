package atlasapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312006/admin"
)

// asRoot sends the harness's credentials on every request of the SDK.
type asRoot struct{}

func (asRoot) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Test root")
	return http.DefaultTransport.RoundTrip(r)
}

// TestGoSDKDatabaseAccess drives the routes with the official Go SDK's
// DatabaseUsersApi and ProjectIPAccessListApi, unchanged: its bodies, its
// escaping of path values, its decoding of every answer.
func TestGoSDKDatabaseAccess(t *testing.T) {
	h, g := dbHarness(t)
	sdk, err := admin.NewClient(admin.UseBaseURL(h.base), admin.UseHTTPClient(&http.Client{Transport: asRoot{}}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	u := admin.NewCloudDatabaseUser("admin", g, "sdk-user")
	u.SetPassword("sdk-Passw0rd")
	u.SetRoles([]admin.DatabaseUserRole{*admin.NewDatabaseUserRole("admin", "readWriteAnyDatabase")})
	u.SetScopes([]admin.UserScope{*admin.NewUserScope("flexA", "CLUSTER")})
	u.SetLabels([]admin.ComponentLabel{})
	u.SetDeleteAfterDate(h.clock.Now().Add(24 * time.Hour))
	created, res, err := sdk.DatabaseUsersApi.CreateDatabaseUser(ctx, g, u).Execute()
	if err != nil || res.StatusCode != 201 {
		t.Fatalf("create: %v %v", res, err)
	}
	if created.GetUsername() != "sdk-user" || created.GetX509Type() != "NONE" || created.HasPassword() || !created.HasDeleteAfterDate() {
		t.Errorf("created %+v", created)
	}
	users, _, err := sdk.DatabaseUsersApi.ListDatabaseUsers(ctx, g).Execute()
	if err != nil || users.GetTotalCount() != 1 || users.GetResults()[0].GetScopes()[0].GetName() != "flexA" {
		t.Fatalf("list: %+v %v", users, err)
	}
	got, _, err := sdk.DatabaseUsersApi.GetDatabaseUser(ctx, g, "admin", "sdk-user").Execute()
	if err != nil || len(got.GetRoles()) != 1 {
		t.Fatalf("get: %+v %v", got, err)
	}
	got.SetPassword("new-Passw0rd")
	got.SetDescription("rotated")
	updated, _, err := sdk.DatabaseUsersApi.UpdateDatabaseUser(ctx, g, "admin", "sdk-user", got).Execute()
	if err != nil || updated.GetDescription() != "rotated" {
		t.Fatalf("update: %+v %v", updated, err)
	}
	if res, err := sdk.DatabaseUsersApi.DeleteDatabaseUser(ctx, g, "admin", "sdk-user").Execute(); err != nil || res.StatusCode != 204 {
		t.Fatalf("delete: %v %v", res, err)
	}
	_, _, err = sdk.DatabaseUsersApi.GetDatabaseUser(ctx, g, "admin", "sdk-user").Execute()
	if !admin.IsErrorCode(err, "USERNAME_NOT_FOUND") {
		t.Errorf("get after delete: %v", err)
	}

	entries := []admin.NetworkPermissionEntry{{}, {}}
	entries[0].SetIpAddress("192.0.2.10")
	entries[0].SetComment("")
	entries[1].SetCidrBlock("2001:db8::/48")
	entries[1].SetComment("v6")
	list, res, err := sdk.ProjectIPAccessListApi.CreateProjectIpAccessList(ctx, g, &entries).Execute()
	if err != nil || res.StatusCode != 201 || list.GetTotalCount() != 2 {
		t.Fatalf("create entries: %v %+v %v", res, list, err)
	}
	for _, value := range []string{"192.0.2.10", "192.0.2.10/32", "2001:db8::/48"} {
		e, _, err := sdk.ProjectIPAccessListApi.GetProjectIpList(ctx, g, value).Execute()
		if err != nil || e.GetCidrBlock() == "" {
			t.Errorf("get %s: %+v %v", value, e, err)
		}
		st, _, err := sdk.ProjectIPAccessListApi.GetProjectIpAccessListStatus(ctx, g, value).Execute()
		if err != nil || st.GetSTATUS() != "ACTIVE" {
			t.Errorf("status %s: %+v %v", value, st, err)
		}
	}
	listed, _, err := sdk.ProjectIPAccessListApi.ListProjectIpAccessLists(ctx, g).Execute()
	if err != nil || listed.GetTotalCount() != 2 || listed.GetResults()[0].GetIpAddress() != "192.0.2.10" {
		t.Fatalf("list entries: %+v %v", listed, err)
	}
	if res, err := sdk.ProjectIPAccessListApi.DeleteProjectIpAccessList(ctx, g, "2001:db8::/48").Execute(); err != nil || res.StatusCode != 204 {
		t.Fatalf("delete entry: %v %v", res, err)
	}
	_, _, err = sdk.ProjectIPAccessListApi.GetProjectIpList(ctx, g, "2001:db8::/48").Execute()
	if !admin.IsErrorCode(err, "ATLAS_NETWORK_PERMISSION_ENTRY_NOT_FOUND") {
		t.Errorf("get after delete: %v", err)
	}
}
