# The catch-up Lambda: packaging with cargo-lambda, a run under the Runtime API emulator, the
# demo, and its benchmark.

$(eval $(call venv,cargo-lambda,'cargo-lambda>=1.8'))
CARGO_LAMBDA_BIN := $(TOOLS)/cargo-lambda/bin
LAMBDA_TARGET_DIR := $(CURDIR)/target/lambda

.PHONY: lambda-zip lambda-invoke-check demo bench-catchup

# Zips for provided.al2023 in target/lambda/eventkeeper-catchup/bootstrap.zip (x86_64) and
# target/lambda/arm64/... when the aarch64 standard library can be installed.
lambda-zip: $(TOOLS)/cargo-lambda/.installed
	PATH=$(CARGO_LAMBDA_BIN):$$PATH CARGO_TARGET_DIR=$(LAMBDA_TARGET_DIR) \
	  cargo lambda build --release --bin eventkeeper-catchup --output-format zip \
	  --lambda-dir $(LAMBDA_TARGET_DIR)/x86_64
	@if rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1; then \
	  PATH=$(CARGO_LAMBDA_BIN):$$PATH CARGO_TARGET_DIR=$(LAMBDA_TARGET_DIR) \
	    cargo lambda build --release --arm64 --bin eventkeeper-catchup --output-format zip \
	    --lambda-dir $(LAMBDA_TARGET_DIR)/arm64; \
	else \
	  echo "lambda-zip: SKIPPED arm64: rustup cannot install aarch64-unknown-linux-gnu here"; \
	fi
	@ls -l $(LAMBDA_TARGET_DIR)/*/eventkeeper-catchup/bootstrap.zip

lambda-invoke-check: $(TOOLS)/cargo-lambda/.installed
	PATH=$(CARGO_LAMBDA_BIN):$$PATH bash scripts/lambda/invoke_check.sh

demo:
	bash scripts/demo/run.sh

TEST_TARGETS += lambda-invoke-check

bench-catchup: $(TOOLS)/moto/.installed
	EVENTKEEPER_MOTO_SERVER=$(MOTO_SERVER) bash scripts/bench/catchup.sh

BENCH_TARGETS += bench-catchup
