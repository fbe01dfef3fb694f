# syntax=docker/dockerfile:1
# The image of a release: GoReleaser (dockers_v2 in .goreleaser.yaml) builds
# it from the binaries it has already built and stamped, which it puts in
# the build context as $TARGETPLATFORM/flexd. The repository's Dockerfile
# builds the same image from source (`docker build .`); both lay out the
# root filesystem with deploy/rootfs.sh, and their runtime stages are the
# same lines (.ci/image-check compares them).

ARG GO_VERSION=1.26.8

# The build stage only copies files (no binary of the target runs), so it
# runs on the builder's platform for every target.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
ARG TARGETPLATFORM
WORKDIR /src
COPY deploy/rootfs.sh deploy/rootfs.sh
COPY $TARGETPLATFORM/flexd /flexd
RUN FLEXD_BINARY=/flexd sh deploy/rootfs.sh /rootfs

FROM scratch
COPY --from=build /rootfs /
COPY --from=build --chown=65532:65532 /rootfs/data /data
USER 65532:65532
# The binary's default is loopback; inside a container flexd must be
# reachable through the published port.
ENV FLEXD_LISTEN=0.0.0.0:8080 FLEXD_DATA_DIR=/data FLEXD_CLUSTER_BIND=0.0.0.0
VOLUME ["/data"]
# The API, and the port range of clusters' connection strings (the data
# plane, issue 9).
EXPOSE 8080 27100-27999
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
	CMD ["/usr/local/bin/flexd", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/flexd"]
CMD ["serve"]
