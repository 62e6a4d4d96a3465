# Thin wrapper over CMake: deps, build, demo, test, bench, fuzz, install.
BUILD ?= build/release
OUT ?= out/demo
PREFIX ?= /usr/local
FUZZ_SECONDS ?= 600

.PHONY: all deps build demo test bench fuzz install clean

all: build

deps:
	@sh scripts/deps.sh

# The tool alone (tests are built by `make test`); make's own MAKEFLAGS are
# kept from the nested build so its output stays readable.
build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DHUBSIM_TESTS=OFF -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS cmake --build $(BUILD) -j$$(nproc) | grep -vE "^(\[|gmake)" || true

demo: build
	@sh scripts/demo.sh $(BUILD)/hubsim $(OUT)

test: deps
	@bash scripts/test.sh

bench: build
	@bash scripts/bench.sh $(BUILD)

fuzz: deps
	@bash scripts/fuzz.sh --seconds $(FUZZ_SECONDS)

install: build
	@cmake --install $(BUILD)

clean:
	rm -rf build out
