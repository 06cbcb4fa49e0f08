/* The arm64 guest's device tree, read back with libfdt: what a kernel and
 * the test guests look up in it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <libfdt.h>

#include "arch/arm64/fdt.h"
#include "arch/arm64/machine.h"

static uint8_t blob[65536];

static const void *prop(const char *path, const char *name, int *len)
{
	int node = fdt_path_offset(blob, path);

	if (node < 0)
		fail_msg("no node %s: %s", path, fdt_strerror(node));
	return fdt_getprop(blob, node, name, len);
}

static const char *str(const char *path, const char *name)
{
	int len;
	const char *s = prop(path, name, &len);

	if (!s)
		fail_msg("no %s in %s", name, path);
	return s;
}

static uint64_t cell64(const void *p, unsigned i)
{
	return fdt64_to_cpu(((const fdt64_t *)p)[i]);
}

static uint32_t cell32(const void *p, unsigned i)
{
	return fdt32_to_cpu(((const fdt32_t *)p)[i]);
}

static int build(unsigned nr_cpus, const char *bootargs)
{
	struct arm64_fdt_config c;
	char err[128];

	memset(&c, 0, sizeof(c));
	c.ram_base = ARM64_RAM_BASE;
	c.ram_size = 256ULL << 20;
	c.nr_cpus = nr_cpus;
	for (unsigned i = 0; i < nr_cpus; i++)
		c.mpidr[i] = 0x80000000ULL | (i % 16) | ((i / 16) << 8);
	c.bootargs = bootargs;
	return arm64_fdt_build(&c, blob, sizeof(blob), err, sizeof(err));
}

static void test_machine(void **state)
{
	const void *p;
	int len, size;

	(void)state;
	size = build(2, "console=ttyAMA0 iters=7");
	assert_true(size > 0);
	ASSERT_EQ(fdt_check_header(blob), 0);
	ASSERT_EQ(fdt_totalsize(blob), size);
	ASSERT_EQ(cell32(prop("/", "#address-cells", &len), 0), 2);
	ASSERT_EQ(cell32(prop("/", "#size-cells", &len), 0), 2);
	assert_string_equal(str("/chosen", "bootargs"),
			    "console=ttyAMA0 iters=7");
	assert_string_equal(str("/chosen", "stdout-path"), "/pl011@9000000");
	assert_string_equal(str("/memory@40000000", "device_type"), "memory");
	p = prop("/memory@40000000", "reg", &len);
	ASSERT_EQ(len, 16);
	ASSERT_HEX(cell64(p, 0), 0x40000000);
	ASSERT_HEX(cell64(p, 1), 256u << 20);
	/* PSCI 0.2 over HVC, and each CPU started through it. */
	p = prop("/psci", "compatible", &len);
	assert_string_equal(p, "arm,psci-0.2");
	ASSERT_EQ(len, (int)sizeof("arm,psci-0.2\0arm,psci"));
	assert_string_equal(str("/psci", "method"), "hvc");
	assert_string_equal(str("/cpus/cpu@1", "enable-method"), "psci");
	ASSERT_EQ(cell32(prop("/cpus/cpu@0", "reg", &len), 0), 0);
	ASSERT_EQ(cell32(prop("/cpus/cpu@1", "reg", &len), 0), 1);
	/* GICv3: distributor and one redistributor frame per vCPU. */
	assert_string_equal(str("/intc@8000000", "compatible"), "arm,gic-v3");
	p = prop("/intc@8000000", "reg", &len);
	ASSERT_EQ(len, 32);
	ASSERT_HEX(cell64(p, 0), ARM64_GICD_BASE);
	ASSERT_HEX(cell64(p, 1), ARM64_GICD_SIZE);
	ASSERT_HEX(cell64(p, 2), ARM64_GICR_BASE);
	ASSERT_HEX(cell64(p, 3), 2 * ARM64_GICR_PER_CPU);
	assert_non_null(prop("/intc@8000000", "interrupt-controller", &len));
	ASSERT_EQ(cell32(prop("/", "interrupt-parent", &len), 0),
		  cell32(prop("/intc@8000000", "phandle", &len), 0));
	/* The timer's four PPIs: secure, non-secure, virtual, hypervisor. */
	p = prop("/timer", "interrupts", &len);
	ASSERT_EQ(len, 48);
	ASSERT_EQ(cell32(p, 1), 13);
	ASSERT_EQ(cell32(p, 4), 14);
	ASSERT_EQ(cell32(p, 7), 11);
	ASSERT_EQ(cell32(p, 10), 10);
	/* The PL011 on SPI 1, level-high, with its clock. */
	p = prop("/pl011@9000000", "reg", &len);
	ASSERT_HEX(cell64(p, 0), 0x09000000);
	p = prop("/pl011@9000000", "interrupts", &len);
	ASSERT_EQ(len, 12);
	ASSERT_EQ(cell32(p, 0), 0);
	ASSERT_EQ(cell32(p, 1), 1);
	ASSERT_EQ(cell32(p, 2), 4);
	p = prop("/pl011@9000000", "compatible", &len);
	assert_string_equal(p, "arm,pl011");
	assert_string_equal((const char *)p + 10, "arm,primecell");
	ASSERT_EQ(cell32(prop("/pl011@9000000", "clocks", &len), 0),
		  cell32(prop("/apb-pclk", "phandle", &len), 0));
	/* kvmdbg's exit device. */
	p = prop("/kvmdbg-exit@9100000", "reg", &len);
	ASSERT_HEX(cell64(p, 0), ARM64_EXIT_BASE);
	assert_string_equal(str("/kvmdbg-exit@9100000", "compatible"),
			    "kvmdbg,exit");
}

static void test_one_cpu_no_bootargs(void **state)
{
	int len;

	(void)state;
	assert_true(build(1, NULL) > 0);
	assert_null(prop("/chosen", "bootargs", &len));
	/* A single CPU needs no enable method, as on QEMU. */
	assert_null(prop("/cpus/cpu@0", "enable-method", &len));
	ASSERT_EQ(fdt_path_offset(blob, "/cpus/cpu@1"), -FDT_ERR_NOTFOUND);
}

static void test_many_cpus(void **state)
{
	int len;

	(void)state;
	/* MPIDR Aff1 shows in the unit address from vCPU 16 on. */
	assert_true(build(17, "") > 0);
	ASSERT_EQ(cell32(prop("/cpus/cpu@100", "reg", &len), 0), 0x100);
	ASSERT_EQ(cell32(prop("/cpus/cpu@f", "reg", &len), 0), 0xf);
}

static void test_errors(void **state)
{
	struct arm64_fdt_config c;
	static char longargs[70000];
	char err[128];

	(void)state;
	memset(&c, 0, sizeof(c));
	c.ram_base = ARM64_RAM_BASE;
	c.ram_size = 1 << 20;
	ASSERT_EQ(arm64_fdt_build(&c, blob, sizeof(blob), err, sizeof(err)),
		  -EINVAL);
	c.nr_cpus = 1;
	memset(longargs, 'a', sizeof(longargs) - 1);
	c.bootargs = longargs;
	ASSERT_EQ(arm64_fdt_build(&c, blob, sizeof(blob), err, sizeof(err)),
		  -ENOSPC);
	assert_non_null(strstr(err, "does not fit"));
	c.bootargs = NULL;
	ASSERT_EQ(arm64_fdt_build(&c, blob, 100, err, sizeof(err)), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_machine),
		cmocka_unit_test(test_one_cpu_no_bootargs),
		cmocka_unit_test(test_many_cpus),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
