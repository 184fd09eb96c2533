# The catch-up Lambda: its zips (with the notifier's), a run under the Runtime API emulator
# (cargo-lambda), the demo, and its benchmark.

$(eval $(call venv,cargo-lambda,'cargo-lambda>=1.8'))
CARGO_LAMBDA_BIN := $(TOOLS)/cargo-lambda/bin
LAMBDA_TARGET_DIR := $(CURDIR)/target/lambda

.PHONY: lambda-zip lambda-invoke-check demo bench-catchup

# The Lambda zips exactly as the release builds them (static musl binaries, one `bootstrap` per
# zip): target/dist/release/eventkeeper-{catchup,notify}-VERSION-linux-ARCH.zip, for the
# Terraform modules' lambda_zip_path. LAMBDA_ARCHES=amd64 for one architecture.
LAMBDA_ARCHES ?= amd64 arm64

lambda-zip: $(TOOLS)/zig/.installed
	PATH="$(TOOLS)/zig/bin:$$PATH" DIST=$(DIST_DIR) scripts/release/build.sh lambda $(LAMBDA_ARCHES)

lambda-invoke-check: $(TOOLS)/cargo-lambda/.installed
	PATH=$(CARGO_LAMBDA_BIN):$$PATH bash scripts/lambda/invoke_check.sh

demo:
	bash scripts/demo/run.sh

TEST_TARGETS += lambda-invoke-check

bench-catchup: $(TOOLS)/moto/.installed
	EVENTKEEPER_MOTO_SERVER=$(MOTO_SERVER) bash scripts/bench/catchup.sh

BENCH_TARGETS += bench-catchup
