package atlasapi

import (
	"net/http"

	"github.com/flexd/flexd"
)

// flexd's backend routes: attach an existing MongoDB deployment to a Flex
// cluster record (PUT), see which backend serves it (GET), and go back to
// the embedded one (DELETE). The URI is a secret: it is read from the
// body, handed to the service, and never written back, logged or echoed in
// an error; every answer shows the deployment's hosts only.

// backendAttach is the body of PUT …/backend.
type backendAttach struct {
	URI string `json:"uri" atlas:"required"`
}

// backendView is what every backend route answers.
type backendView struct {
	Kind             flexd.BackendKind `json:"kind"`
	Hosts            string            `json:"hosts,omitempty"`
	ConnectionString string            `json:"connectionString,omitempty"`
	AttachedAt       atlasTime         `json:"attachedAt,omitzero"`
}

func viewBackend(_ string, b *flexd.BackendView) backendView {
	return backendView{Kind: b.Kind, Hosts: b.Hosts, ConnectionString: b.ConnectionString, AttachedAt: atlasTime(b.AttachedAt)}
}

// backends returns the backend service, or the error every backend route
// answers when the server has none.
func (s *server) backends() (flexd.BackendService, error) {
	if s.cfg.Backends == nil {
		return nil, flexd.FeatureUnsupported("this flexd cannot attach MongoDB deployments")
	}
	return s.cfg.Backends, nil
}

func (s *server) getBackend() http.Handler {
	return one(s, http.StatusOK, func(r *http.Request) (*flexd.BackendView, error) {
		b, err := s.backends()
		if err != nil {
			return nil, err
		}
		return b.GetBackend(r.Context(), r.PathValue("groupId"), r.PathValue("name"))
	}, viewBackend)
}

func (s *server) attachBackend() http.Handler {
	return withBody(s, http.StatusOK, func(r *http.Request, in *backendAttach) (*flexd.BackendView, error) {
		b, err := s.backends()
		if err != nil {
			return nil, err
		}
		return b.AttachBackend(r.Context(), r.PathValue("groupId"), r.PathValue("name"), in.URI)
	}, viewBackend)
}

func (s *server) detachBackend() http.Handler {
	return one(s, http.StatusOK, func(r *http.Request) (*flexd.BackendView, error) {
		b, err := s.backends()
		if err != nil {
			return nil, err
		}
		return b.DetachBackend(r.Context(), r.PathValue("groupId"), r.PathValue("name"))
	}, viewBackend)
}
