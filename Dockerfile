# Builds the switchyard binary and ships it on a slim Debian. Used by compose.example.yml (`build: .`).
FROM swift:6.1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libcrypt-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# scripts/build-release: the release build as benchmarked (no runtime exclusivity checks in any module; see there).
RUN scripts/build-release --static-swift-stdlib && cp "$(swift build -c release --show-bin-path)/switchyard" /switchyard

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libcrypt1 && rm -rf /var/lib/apt/lists/*
COPY --from=build /switchyard /usr/local/bin/switchyard
EXPOSE 80 8080
ENTRYPOINT ["/usr/local/bin/switchyard"]
