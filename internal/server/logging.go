package server

import (
	"context"
	"log/slog"
)

// quietRiver is a slog.Handler that logs River's own lines (a logger with
// the attribute component=river, as the lifecycle engine gives River) at
// DEBUG unless they are warnings or errors. River reports at INFO what is
// routine for flexd ("Driver does not support listener", "Producer job
// counts" every few seconds); an operator at INFO should see flexd's
// lines, and River's problems.
type quietRiver struct {
	inner slog.Handler
	river bool
}

func (h quietRiver) level(l slog.Level) slog.Level {
	if h.river && l < slog.LevelWarn {
		return slog.LevelDebug
	}
	return l
}

func (h quietRiver) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, h.level(l))
}

func (h quietRiver) Handle(ctx context.Context, r slog.Record) error {
	r.Level = h.level(r.Level)
	return h.inner.Handle(ctx, r)
}

func (h quietRiver) WithAttrs(attrs []slog.Attr) slog.Handler {
	river := h.river
	for _, a := range attrs {
		if a.Key == "component" && a.Value.String() == "river" {
			river = true
		}
	}
	return quietRiver{inner: h.inner.WithAttrs(attrs), river: river}
}

func (h quietRiver) WithGroup(name string) slog.Handler {
	return quietRiver{inner: h.inner.WithGroup(name), river: h.river}
}
