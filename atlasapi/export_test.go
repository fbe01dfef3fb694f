package atlasapi

// AuthenticatedRoutes lists "METHOD pattern" for every route that needs
// credentials, so the role matrix can prove that it covers all of them.
func AuthenticatedRoutes() []string {
	var out []string
	for _, rt := range (&server{}).routes() {
		if rt.access.scope != scopePublic {
			out = append(out, rt.method+" "+rt.pattern)
		}
	}
	return out
}
