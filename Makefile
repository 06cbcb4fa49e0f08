# Convenience wrapper around tools/; meson does the real work.
.PHONY: all demo check clean

all:
	@[ -f build/build.ninja ] || meson setup build
	ninja -C build

demo:
	tools/demo

check:
	tools/check

clean:
	rm -rf build build-asan build-fuzz build-*.buildlog
