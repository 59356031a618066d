# Everyday commands: `make help` lists them. scripts/run and scripts/test stay the two
# primary commands (README); these are shortcuts, plus the compose stack and kind.
.DEFAULT_GOAL := help
SHELL := /bin/bash

# The compose stack (services mode): its secrets come from docker/.env (docker/.env.example).
# PROFILES=batch adds the batch worker, e.g. `make up PROFILES=batch`.
PROFILES ?=
COMPOSE := docker compose --env-file docker/.env $(addprefix --profile ,$(PROFILES))
# `make dev`'s PostgreSQL and Redis (compose.dev.yaml), a project of their own. compose.yaml
# requires both secrets to parse even for commands that do not use them.
DEV_COMPOSE := POSTGRES_PASSWORD=unused DJANGO_SECRET_KEY=unused docker compose -p media-analyzer-dev -f compose.yaml -f compose.dev.yaml
# Building needs no secret either.
BUILD_COMPOSE := POSTGRES_PASSWORD=unused DJANGO_SECRET_KEY=unused docker compose

# kind: the images compose builds (compose.yaml's `image:`, k8s/base's too).
KIND_CLUSTER ?= media-analyzer
KUBECTL := kubectl --context kind-$(KIND_CLUSTER)
BACKEND_IMAGE := media-analyzer/backend:0.1.0
FRONTEND_IMAGE := media-analyzer/frontend:0.1.0
KIND_DIR := var/kind

.PHONY: help run test test-services check dev dev-down up logs down restart re kind-up kind-load kind-apply kind-down

help: ## list the commands
	@grep -hE '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-14s %s\n", $$1, $$2}'

run: ## the platform on its embedded defaults, http://127.0.0.1:8000 (scripts/run)
	scripts/run

test: ## every test, embedded defaults (scripts/test)
	scripts/test

test-services: ## the Python suite against real PostgreSQL and Redis (scripts/test --services)
	scripts/test --services

check: ## ruff, mypy, ESLint, Prettier: what CI runs before the tests (scripts/check)
	scripts/check

dev: ## live reload: compose PostgreSQL+Redis, uvicorn --reload, ingest, worker, ng serve on :4200 (scripts/dev)
	scripts/dev

dev-down: ## stop and remove `make dev`'s PostgreSQL and Redis (their data stays in a volume)
	$(DEV_COMPOSE) down

up: docker/.env ## start the compose stack in the background, http://localhost:8080
	$(COMPOSE) up -d

logs: docker/.env ## follow the compose stack's logs
	$(COMPOSE) logs -f --tail=100

down: docker/.env ## stop and remove the compose stack's containers (volumes stay)
	$(COMPOSE) down

restart: docker/.env ## restart the compose stack's containers
	$(COMPOSE) restart

re: docker/.env ## rebuild the images and restart what changed (up -d --build)
	$(COMPOSE) up -d --build

docker/.env:
	@echo "docker/.env is missing: cp docker/.env.example docker/.env, then fill it in" >&2; exit 1

kind-up: ## create the kind cluster media-analyzer (KIND_CLUSTER)
	kind get clusters 2>/dev/null | grep -qx '$(KIND_CLUSTER)' || kind create cluster --name $(KIND_CLUSTER)

kind-load: ## build the two images with compose and load them into kind
	$(BUILD_COMPOSE) build web nginx
	kind load docker-image --name $(KIND_CLUSTER) $(BACKEND_IMAGE) $(FRONTEND_IMAGE)

kind-apply: $(KIND_DIR)/kustomization.yaml ## apply k8s/overlays/local, with a generated Secret (var/kind/)
	$(KUBECTL) apply -k $(KIND_DIR)
	@echo "== dashboard: $(KUBECTL) -n media-analyzer port-forward svc/dashboard 8080:80"

kind-down: ## delete the kind cluster
	kind delete cluster --name $(KIND_CLUSTER)

# The base's Secret is a template of placeholders, which `apply -k k8s/overlays/local`
# would write over any real one; var/kind/ is that overlay plus a patch with random values,
# made once and kept (var/ is not committed).
define KIND_OVERLAY_PY
import pathlib, secrets
d = pathlib.Path("$(KIND_DIR)")
pw = secrets.token_urlsafe(24)
(d / "secrets.yaml").write_text(
    "apiVersion: v1\nkind: Secret\nmetadata: {name: media-analyzer-secrets, namespace: media-analyzer}\n"
    "stringData:\n  DJANGO_SECRET_KEY: '%s'\n  POSTGRES_PASSWORD: '%s'\n"
    "  DATABASE_URL: 'postgres://media:%s@postgres:5432/media'\n" % (secrets.token_urlsafe(50), pw, pw))
(d / "kustomization.yaml").write_text(
    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
    "resources: [../../k8s/overlays/local]\npatches: [{path: secrets.yaml}]\n")
endef
export KIND_OVERLAY_PY

$(KIND_DIR)/kustomization.yaml:
	mkdir -p $(KIND_DIR)
	umask 077 && python3 -c "$$KIND_OVERLAY_PY"
