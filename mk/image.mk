# The emitter's container image (issue 15), built with buildah (no daemon) from the static
# binaries scripts/release/build.sh stages; the release workflow calls the same script.
#
#   make image         binaries for IMAGE_ARCHES (amd64 arm64; an architecture whose Rust target
#                      cannot be installed is SKIPPED visibly), the image as an OCI layout in
#                      target/dist/image/oci, its files, labels and compressed size per arch
#   make image-check   (in `make test`) the amd64 image, unpacked with umoci and run as UID 65532
#                      against the simulator: /readyz 200, records on stdout, SIGTERM exits 0
#
# buildah, skopeo, umoci (and shellcheck, for release-check) come from Debian, installed here on
# first use (CI is a fresh machine).

IMAGE_ARCHES ?= amd64 arm64
# apt-get needs root; CI runners give it through passwordless sudo.
AS_ROOT := $(if $(filter 0,$(shell id -u)),,sudo -n)
IMAGE_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
IMAGE_REVISION = $(shell git rev-parse HEAD)
DIST_DIR := $(CHART_TARGET_DIR)/dist

.PHONY: image image-check

$(TOOLS)/image-tools.checked:
	@mkdir -p $(TOOLS)
	@for tool in buildah skopeo umoci shellcheck; do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing from Debian"; \
	  $(AS_ROOT) apt-get update -q >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive $(AS_ROOT) apt-get install -y -q $$missing >/dev/null; \
	fi
	@touch $@

image: $(TOOLS)/image-tools.checked $(TOOLS)/zig/.installed
	PATH="$(TOOLS)/zig/bin:$$PATH" DIST=$(DIST_DIR) scripts/release/build.sh binaries $(IMAGE_ARCHES)
	DIST=$(DIST_DIR) scripts/release/build.sh image $(IMAGE_VERSION) $(IMAGE_REVISION)

# One architecture in `make test`: the amd64 binary is the one chart-check already builds.
image-check: emitter-static $(TOOLS)/chart-helm/.installed
	$(MAKE) --no-print-directory image IMAGE_ARCHES=amd64
	$(CARGO) build --locked -p eventkeeper-sim
	$(CHART_PY) scripts/image/check_image.py --layout $(DIST_DIR)/image/oci --tag $(IMAGE_VERSION) \
		--sim $(CHART_TARGET_DIR)/debug/eventkeeper-sim --work $(CHART_TARGET_DIR)/image-check

TEST_TARGETS += image-check
