# Convenience wrapper around tools/; meson does the real work.
.PHONY: all demo check clean

all:
	@[ -f build/build.ninja ] || meson setup build
	ninja -C build

demo:
	tools/demo

check:
	tools/check

# kvmdbg against QEMU's gdbstub (bench/run.py), about 15 minutes on 2 cores;
# writes docs/PERFORMANCE.md. `make bench BENCH_ARGS=--quick` for a short run.
.PHONY: bench
bench:
	tools/install-deps
	@[ -f build/build.ninja ] || meson setup build
	ninja -C build
	python3 bench/run.py $(BENCH_ARGS) build

clean:
	rm -rf build build-asan build-fuzz build-*.buildlog
