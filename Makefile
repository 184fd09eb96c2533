# The project's vocabulary. `make test` is what CI runs (.ci/run); it installs every tool it
# needs under .tools/ (ignored), so a machine with only Rust, Python and Debian packages passes.
#
# Each area adds its own checks in mk/<area>.mk by appending to TEST_TARGETS / BENCH_TARGETS.

SHELL := /bin/bash
.DEFAULT_GOAL := help

CARGO ?= cargo
TOOLS := $(CURDIR)/.tools
SHARED ?= $(abspath $(CURDIR)/../shared)
export EVENTKEEPER_REAL_EVENTS ?= $(SHARED)/real-events

TEST_TARGETS :=
BENCH_TARGETS :=

include mk/tools.mk
include $(sort $(filter-out mk/tools.mk,$(wildcard mk/*.mk)))

.PHONY: help test fmt-check clippy rust-test bench build schema iam-actions bench-normalise bench-compare

help:
	@echo "make test    everything CI runs (fmt, clippy, all tests, chart and terraform checks)"
	@echo "make demo    the whole pipeline on this machine, no cluster and no AWS needed"
	@echo "make bench   benchmarks; figures go to docs/performance.md"
	@echo "make schema  regenerate docs/schema/event-v1.json and the seed lines in docs/schema.md"

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

rust-test: $(RUST_TEST_TOOLS)
	$(RUST_TEST_ENV) $(CARGO) test --workspace --locked

build:
	$(CARGO) build --workspace --release --locked

test: fmt-check clippy rust-test $(TEST_TARGETS)
	@echo "make test: all checks passed"

# Generated files are committed; their tests fail when they drift from the code.
schema:
	EVENTKEEPER_UPDATE_GENERATED=1 $(CARGO) test -p eventkeeper-core --test schema

# The catch-up's IAM actions, as the Terraform module's policy reads them.
iam-actions:
	EVENTKEEPER_UPDATE_GENERATED=1 $(CARGO) test -p eventkeeper-catchup --test iam_actions

bench-normalise:
	$(CARGO) bench -p eventkeeper-core --bench normalise

BENCH_TARGETS += bench-normalise

# Two builds of the emitter and the catch-up, run alternately on one simulator (not part of
# `bench`: it needs a second build). BASE and NEW are directories holding eventkeeper-emitter and
# eventkeeper-catchup, e.g. a worktree's target/release; EVENTS and PAIRS as in the script.
bench-compare: $(TOOLS)/moto/.installed
	@test -n "$(BASE)" -a -n "$(NEW)" || { echo "usage: make bench-compare BASE=dir NEW=dir" >&2; exit 64; }
	$(CARGO) build --release -p eventkeeper-sim
	EVENTKEEPER_MOTO_SERVER=$(MOTO_SERVER) python3 scripts/bench/compare_builds.py $(BASE) $(NEW) target/release/eventkeeper-sim

bench: $(BENCH_TARGETS)
