# nodesim's container image: `make image` (docker build -t nodesim:VERSION .).
# The build stage compiles a static binary (no cgo), stamped as `make build`
# stamps it; the final image is distroless static, run as the non-root user
# 65532, with nothing but the binary and CA certificates.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/nodesim/nodesim/internal/version.version=${VERSION} -X github.com/nodesim/nodesim/internal/version.commit=${COMMIT}" \
      -o /out/nodesim ./cmd/nodesim

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/nodesim /usr/local/bin/nodesim
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/nodesim"]
CMD ["--help"]
