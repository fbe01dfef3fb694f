#!/bin/sh
# rootfs.sh OUT builds the container image's whole root filesystem in OUT:
# a static flexd, the non-root user it runs as, /data and /tmp, CA
# certificates (for `flexd drill` against https://cloud.mongodb.com).
#
# The Dockerfile's build stage runs exactly this, and .ci/image-check runs
# it outside Docker and starts the result, so what CI checks is what the
# image holds. Run from the repository root. VERSION, REVISION and
# BUILD_DATE are stamped into `flexd version` when given; otherwise taken
# from git when it can tell, and Go records what it sees itself.
#
# FLEXD_BINARY=PATH puts a flexd built elsewhere into OUT instead of
# building one: GoReleaser's image (deploy/release.Dockerfile) is made of
# the binaries it built and stamped itself.
set -eu
out=${1:?usage: deploy/rootfs.sh OUT}
uid=65532 # the "nonroot" user of distroless images

mkdir -p "$out/usr/local/bin" "$out/etc/ssl/certs" "$out/data" "$out/tmp"
if [ -n "${FLEXD_BINARY:-}" ]; then
	cp "$FLEXD_BINARY" "$out/usr/local/bin/flexd"
	chmod 0755 "$out/usr/local/bin/flexd"
else
	revision=${REVISION:-$(git rev-parse HEAD 2>/dev/null || true)}
	version=${VERSION:-$(git describe --tags --exact-match --dirty 2>/dev/null || true)}
	if [ -z "$version" ] && [ -n "$revision" ] && [ -z "${REVISION:-}" ]; then
		# Go's own pseudo-version for an untagged commit, as `go build` in a
		# checkout would record it.
		when=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S)
		version=v0.0.0-$when-$(echo "$revision" | cut -c1-12)
		if [ -n "$(git status --porcelain 2>/dev/null)" ]; then
			version=$version+dirty
		fi
	fi
	build_date=${BUILD_DATE:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}

	CGO_ENABLED=0 go build -trimpath -buildvcs=auto \
		-ldflags "-s -w -X github.com/flexd/flexd/internal/server.version=$version -X github.com/flexd/flexd/internal/server.revision=$revision -X github.com/flexd/flexd/internal/server.buildDate=$build_date" \
		-o "$out/usr/local/bin/flexd" ./cmd/flexd
fi

printf 'root:x:0:0:root:/root:/sbin/nologin\nflexd:x:%d:%d:flexd:/data:/sbin/nologin\n' $uid $uid >"$out/etc/passwd"
printf 'root:x:0:\nflexd:x:%d:\n' $uid >"$out/etc/group"
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
	cp /etc/ssl/certs/ca-certificates.crt "$out/etc/ssl/certs/"
fi
chmod 1777 "$out/tmp"
chmod 0750 "$out/data"
if [ "$(id -u)" = 0 ]; then
	chown $uid:$uid "$out/data"
fi
