# ariscale: one ARI for many Asterisks.  `make up` starts a cluster, `make test` runs the suite.
SHELL := /bin/bash
# The node count comes from the command line only (make up NODES=3): `.cluster/env`, once
# sourced with `set -a`, exports NODES as the node names (n1,n2), which must not shadow it.
ifneq ($(origin NODES),command line)
NODES := 2
endif
RUNTIME ?= native
GATEWAYS ?= 1
N ?= 2
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
CLUSTER := $(UV) run --frozen python -m ariscale_cluster --state-dir .cluster

.PHONY: up down status logs call test lint provision sync bench load chaos soak unit images compose

provision:
	@bash deploy/scripts/provision.sh

sync: provision
	@$(UV) sync --frozen --quiet

up: sync
	@if [ "$(RUNTIME)" = containers ]; then $(MAKE) --no-print-directory images; fi
	@$(CLUSTER) up --nodes $(NODES) --gateways $(GATEWAYS) --runtime $(RUNTIME) $(ARGS)

# podman, base images from Debian's archive, one image per service (cached: seconds when unchanged).
images: sync
	@$(CLUSTER) images

# deploy/compose.yaml and the files it mounts, from the same spec as make up.
compose: sync
	@$(CLUSTER) compose

status:
	@$(CLUSTER) status

down:
	@$(CLUSTER) down

# make logs: where each component logs; FOLLOW=1 all of them merged, live; CALL=<channel id> one call.
logs:
	@$(CLUSTER) logs $(if $(FOLLOW),--follow) $(if $(CALL),--call $(CALL))

HOLD ?= 30
call:
	@$(CLUSTER) call --calls $(N) --hold $(HOLD)

unit: sync
	$(UV) run --frozen pytest tests/unit -q

test: sync lint images
	$(UV) run --frozen pytest -q -p no:cacheprovider

lint: sync
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy

# make bench ONLY="stuck events": only those sections (requests joins events stuck); all by default.
bench: sync
	$(UV) run --frozen python -m bench $(ONLY)

# make load RATE=10 STEP=10 DURATION=60 HOLD=2 NODES=2 GATEWAYS=1 (CALLS: per step, default RATE x DURATION)
RATE ?= 10
STEP ?= 0
DURATION ?= 60
CALLS ?= 0
LOAD_PORT_BASE ?= 28000
VARIANTS ?= answer,conference
LOAD_HOLD = $(if $(filter command line environment,$(origin HOLD)),$(HOLD),2)
load: sync
	$(UV) run --frozen python -m bench.load --rate $(RATE) --step $(STEP) --duration $(DURATION) \
		--calls $(CALLS) --hold $(LOAD_HOLD) --nodes $(NODES) --gateways $(GATEWAYS) \
		--variants $(VARIANTS) --port-base $(LOAD_PORT_BASE)

# make chaos FAULTS=asterisk,agent,gateway,rabbitmq,redis,consul,kamailio,registry (default: all)
#   RATE=10 HOLD=15 DURATION=35 FAULT_AT=20 GATEWAYS=2: each fault once under steady load.
CHAOS_PORT_BASE ?= 61000
FAULTS ?=
FAULT_AT ?= 20
CHAOS_RATE = $(if $(filter command line environment,$(origin RATE)),$(RATE),10)
CHAOS_HOLD = $(if $(filter command line environment,$(origin HOLD)),$(HOLD),15)
CHAOS_DURATION = $(if $(filter command line environment,$(origin DURATION)),$(DURATION),35)
CHAOS_GATEWAYS = $(if $(filter command line environment,$(origin GATEWAYS)),$(GATEWAYS),2)
chaos: sync
	$(UV) run --frozen python -m bench.chaos --rate $(CHAOS_RATE) --hold $(CHAOS_HOLD) \
		--duration $(CHAOS_DURATION) --fault-at $(FAULT_AT) --nodes $(NODES) \
		--gateways $(CHAOS_GATEWAYS) --port-base $(CHAOS_PORT_BASE) --faults "$(FAULTS)"

# make soak DURATION=3600 RATE=5 HOLD=10 (not in CI): memory and fds of every process, orphans.
SOAK_RATE = $(if $(filter command line environment,$(origin RATE)),$(RATE),5)
SOAK_HOLD = $(if $(filter command line environment,$(origin HOLD)),$(HOLD),10)
SOAK_DURATION = $(if $(filter command line environment,$(origin DURATION)),$(DURATION),3600)
soak: sync
	$(UV) run --frozen python -m bench.soak --rate $(SOAK_RATE) --hold $(SOAK_HOLD) \
		--duration $(SOAK_DURATION) --nodes $(NODES) --gateways $(CHAOS_GATEWAYS) \
		--port-base $(CHAOS_PORT_BASE)
