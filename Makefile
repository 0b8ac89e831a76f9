# snowgate — make help lists the targets.

GO      ?= go
CACHE   := $(CURDIR)/.cache
VENV    := $(CACHE)/venv
FAKESNOW := $(CACHE)/fakesnow
NODE    := $(CACHE)/node
CLIENTS := mcp dbt snowcli langchain
GOBIN   := $(CACHE)/bin
OPA     := $(GOBIN)/opa
OPA_VERSION := v1.22.3
CHROMIUM ?= /usr/bin/chromium
REGISTRY ?= /usr/bin/docker-registry
VAULT   ?= $(HOME)/.cache/snowgate/vault-1.21.0/vault
JDBC_VERSION := 3.24.0
JDBC_JAR := $(HOME)/.m2/repository/net/snowflake/snowflake-jdbc/$(JDBC_VERSION)/snowflake-jdbc-$(JDBC_VERSION).jar
# The stand-in reads query results through DuckDB's Arrow interface, which
# duckdb-go builds only with this tag; without it results are read a row at
# a time (slower, the same rows).
export GOFLAGS += -tags=duckdb_arrow
PG_BIN  ?= $(shell ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
TEST_ENV := SNOWGATE_PYTHON=$(VENV)/bin/python SNOWGATE_NODE_PATH=$(NODE)/node_modules SNOWGATE_OPA=$(OPA) \
	SNOWGATE_FAKESNOW=$(FAKESNOW)/bin/fakesnow SNOWGATE_CHROMIUM=$(CHROMIUM) SNOWGATE_PG_BIN=$(PG_BIN) SNOWGATE_REGISTRY=$(REGISTRY) SNOWGATE_VAULT=$(VAULT) SNOWGATE_JDBC_JAR=$(JDBC_JAR) \
	SNOWGATE_MCP_PYTHON=$(CACHE)/mcp/bin/python SNOWGATE_DBT=$(CACHE)/dbt/bin/dbt SNOWGATE_SNOW=$(CACHE)/snowcli/bin/snow \
	SNOWGATE_LANGCHAIN_PYTHON=$(CACHE)/langchain/bin/python PATH=$(GOBIN):$(PATH)

.PHONY: help dev test deps build bench bench-go soak fuzz lint

help: ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

dev: ## run snowgate dev: stand-in, dev issuer, default policy, gateway
	$(GO) run ./cmd/snowgate dev

build: ## build bin/snowgate
	$(GO) build -o bin/snowgate ./cmd/snowgate

test: deps ## run every test with the real drivers, OPA and the other components
	$(OPA) test --coverage --threshold 90 rego opa-tests > /dev/null   # the stock opa: Rego tests pass, coverage >= 90%
	$(TEST_ENV) $(GO) test -count=1 -timeout 30m ./...
	$(GO) test -race -count=1 ./engine/                                 # the engine's memo of decisions, shared by every session
	cd deploy/kubernetes/check && $(GO) test -count=1 ./...
	$(MAKE) --no-print-directory fuzz FUZZTIME=20000x                    # each fuzz target briefly, beyond its seed corpus: a count, see README

deps: $(VENV)/.ok $(FAKESNOW)/.ok $(NODE)/.ok $(CLIENTS:%=$(CACHE)/%/.ok) $(OPA) $(VAULT) $(JDBC_JAR) ## install the test clients and tools into .cache

$(VENV)/.ok: proxy/testdata/clients/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

$(FAKESNOW)/.ok: proxy/testdata/clients/fakesnow-requirements.txt
	python3 -m venv $(FAKESNOW)
	$(FAKESNOW)/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

# The agent clients, each in its own environment: their pins conflict.
$(CACHE)/%/.ok: clients/requirements-%.txt
	python3 -m venv $(CACHE)/$*
	$(CACHE)/$*/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

$(NODE)/.ok: proxy/testdata/clients/package.json
	mkdir -p $(NODE)
	cp $< $(NODE)/package.json
	cd $(NODE) && npm install --no-audit --no-fund --loglevel=error
	touch $@

$(VAULT): ## Vault v1.21.0 with its Snowflake plugin, built once into ~/.cache (minutes, cold)
	.ci/build-vault.sh > /dev/null

$(JDBC_JAR):
	mvn -q dependency:get -Dartifact=net.snowflake:snowflake-jdbc:$(JDBC_VERSION)

$(OPA):
	GOBIN=$(GOBIN) $(GO) install github.com/open-policy-agent/opa@$(OPA_VERSION)

BENCHFLAGS ?=
bench: $(OPA) ## snowgate bench: one table of the gateway next to its baselines (BENCHFLAGS, e.g. -only select,decision)
	@$(GO) build -o bin/snowgate ./cmd/snowgate
	@$(TEST_ENV) bin/snowgate bench $(BENCHFLAGS)

bench-go: deps ## run the go test benchmarks (see README for what each shows)
	$(TEST_ENV) $(GO) test -run '^$$' -bench . -benchmem -count 1 ./...

soak: ## 30 minutes of mixed load on snowgate dev: goroutines, heap and open files must stay flat (go test runs 2 minutes)
	SNOWGATE_SOAK=30m $(GO) test -count=1 -run '^TestSoak$$' -v -timeout 45m ./cmd/snowgate/

FUZZTIME ?= 60s
fuzz: ## fuzz the SQL analyser, the request, bind, audit record and bundle decoders, the Arrow encoder and the record batches' text, FUZZTIME (60s) each
	$(GO) test -run '^$$' -fuzz ^FuzzAnalyze$$ -fuzztime $(FUZZTIME) ./proxy/statement/
	$(GO) test -run '^$$' -fuzz ^FuzzDecodeBody$$ -fuzztime $(FUZZTIME) ./proxy/
	$(GO) test -run '^$$' -fuzz ^FuzzBinds$$ -fuzztime $(FUZZTIME) ./proxy/
	$(GO) test -run '^$$' -fuzz ^FuzzBatchText$$ -fuzztime $(FUZZTIME) ./proxy/
	$(GO) test -run '^$$' -fuzz ^FuzzRecordDecode$$ -fuzztime $(FUZZTIME) ./proxy/audit/
	$(GO) test -run '^$$' -fuzz ^FuzzArrow$$ -fuzztime $(FUZZTIME) ./proxy/rowset/
	$(GO) test -run '^$$' -fuzz ^FuzzBundle$$ -fuzztime $(FUZZTIME) ./bundles/
