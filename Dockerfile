# syntax=docker/dockerfile:1
# flexd's container image: a static binary on an empty (scratch) root, run
# as a non-root user, data in the /data volume. `docker build .`
#
# Stamp a release: docker build --build-arg VERSION=v1.2.0 \
#   --build-arg REVISION=$(git rev-parse HEAD) .
# .ci/image-check builds the same root filesystem with deploy/rootfs.sh
# outside Docker and runs it (see README, "Use it from your CI").

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION="" REVISION="" BUILD_DATE=""
RUN VERSION="$VERSION" REVISION="$REVISION" BUILD_DATE="$BUILD_DATE" sh deploy/rootfs.sh /rootfs

FROM scratch
COPY --from=build /rootfs /
COPY --from=build --chown=65532:65532 /rootfs/data /data
USER 65532:65532
# The binary's default is loopback; inside a container flexd must be
# reachable through the published port.
ENV FLEXD_LISTEN=0.0.0.0:8080 FLEXD_DATA_DIR=/data
VOLUME ["/data"]
# The API, and the port range of clusters' connection strings (the data
# plane, issue 9).
EXPOSE 8080 27100-27999
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
	CMD ["/usr/local/bin/flexd", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/flexd"]
CMD ["serve"]
