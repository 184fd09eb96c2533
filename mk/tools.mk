# Tools installed on demand under .tools/, one Python venv per tool family so their
# dependencies cannot collide (checkov and python-hcl2 overwrite each other's `hcl2`).

PYTHON ?= python3

# $(call venv,NAME,PIP-ARGS) -> a stamp file that exists once the venv has its packages.
define venv
$(TOOLS)/$(1)/.installed:
	@mkdir -p $(TOOLS)
	$(PYTHON) -m venv $(TOOLS)/$(1)
	$(TOOLS)/$(1)/bin/pip install --quiet --disable-pip-version-check $(2)
	@touch $$@
endef

# The official Kubernetes Python client, a second real client for the simulator.
$(eval $(call venv,py-kube,'kubernetes>=31'))
# moto server for S3, EKS, STS, CloudWatch Logs, EventBridge, IAM.
$(eval $(call venv,moto,'moto[server]>=5'))

PY_KUBE := $(TOOLS)/py-kube/bin/python
MOTO_SERVER := $(TOOLS)/moto/bin/moto_server

# kubectl is preinstalled on our machines; where it is not, fall back to Debian's
# kubernetes-client, and say so loudly when neither can be had (the kubectl tests then fail).
$(TOOLS)/kubectl.checked:
	@mkdir -p $(TOOLS)
	@command -v kubectl >/dev/null || { \
	  echo "kubectl not found: trying Debian's kubernetes-client"; \
	  (apt-get install -y -q kubernetes-client >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q kubernetes-client >/dev/null 2>&1)) || \
	  echo "WARNING: no kubectl and kubernetes-client is not installable: kubectl conformance tests will fail"; }
	@touch $@

# Tools the Rust integration tests look for, and how they find them.
RUST_TEST_TOOLS := $(TOOLS)/py-kube/.installed $(TOOLS)/moto/.installed $(TOOLS)/kubectl.checked
# EVENTKEEPER_REQUIRE_PEERS: the peers installed here (moto, the Python client) must be found;
# a test that would skip without them fails instead.
RUST_TEST_ENV := EVENTKEEPER_REQUIRE_PEERS=1 \
	EVENTKEEPER_PY_KUBE=$(PY_KUBE) EVENTKEEPER_MOTO_SERVER=$(MOTO_SERVER) \
	EVENTKEEPER_KUBECTL=$$(command -v kubectl || true)

.PHONY: tools
tools: $(RUST_TEST_TOOLS)
