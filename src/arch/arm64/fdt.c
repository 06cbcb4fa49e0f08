/* The arm64 guest's device tree, laid out like QEMU virt's so a kernel that
 * boots there finds the same devices here. Built with libfdt's sequential
 * writer; nothing here knows the blob format. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <libfdt.h>

#include "arch/arm64/fdt.h"
#include "arch/arm64/machine.h"

#define PHANDLE_GIC 1
#define PHANDLE_CLK 2
#define APB_CLOCK_HZ 24000000u

/* Every libfdt call of one build returns into this: the first error wins. */
struct fdt_writer {
	void *buf;
	int err;
};

static void chk(struct fdt_writer *w, int ret)
{
	if (ret < 0 && !w->err)
		w->err = ret;
}

static void prop_u32s(struct fdt_writer *w, const char *name,
		      const uint32_t *v, unsigned n)
{
	fdt32_t be[16];

	for (unsigned i = 0; i < n && i < 16; i++)
		be[i] = cpu_to_fdt32(v[i]);
	chk(w, fdt_property(w->buf, name, be, (int)(n * sizeof(be[0]))));
}

/* reg = <addr size> pairs with #address-cells = #size-cells = 2. */
static void prop_reg64(struct fdt_writer *w, const uint64_t *v, unsigned n)
{
	fdt64_t be[8];

	for (unsigned i = 0; i < n && i < 8; i++)
		be[i] = cpu_to_fdt64(v[i]);
	chk(w, fdt_property(w->buf, "reg", be, (int)(n * sizeof(be[0]))));
}

/* A list of NUL-separated strings: "a\0b\0". */
static void prop_strs(struct fdt_writer *w, const char *name, const char *s,
		      size_t len)
{
	chk(w, fdt_property(w->buf, name, s, (int)len));
}

static void begin(struct fdt_writer *w, const char *name)
{
	chk(w, fdt_begin_node(w->buf, name));
}

static void end(struct fdt_writer *w)
{
	chk(w, fdt_end_node(w->buf));
}

static void add_cpus(struct fdt_writer *w, const struct arm64_fdt_config *c)
{
	char name[32];

	begin(w, "cpus");
	chk(w, fdt_property_u32(w->buf, "#address-cells", 1));
	chk(w, fdt_property_u32(w->buf, "#size-cells", 0));
	for (unsigned i = 0; i < c->nr_cpus; i++) {
		/* Aff2..Aff0; Aff3 is zero for every vCPU KVM creates. */
		uint32_t reg = (uint32_t)(c->mpidr[i] & 0xffffff);

		snprintf(name, sizeof(name), "cpu@%" PRIx32, reg);
		begin(w, name);
		chk(w, fdt_property_string(w->buf, "device_type", "cpu"));
		chk(w, fdt_property_string(w->buf, "compatible",
					   "arm,arm-v8"));
		chk(w, fdt_property_u32(w->buf, "reg", reg));
		if (c->nr_cpus > 1)
			chk(w, fdt_property_string(w->buf, "enable-method",
						   "psci"));
		end(w);
	}
	end(w);
}

static void add_gic(struct fdt_writer *w, unsigned nr_cpus)
{
	uint64_t reg[4] = { ARM64_GICD_BASE, ARM64_GICD_SIZE, ARM64_GICR_BASE,
			    (uint64_t)nr_cpus * ARM64_GICR_PER_CPU };
	char name[32];

	snprintf(name, sizeof(name), "intc@%llx",
		 (unsigned long long)ARM64_GICD_BASE);
	begin(w, name);
	chk(w, fdt_property_string(w->buf, "compatible", "arm,gic-v3"));
	chk(w, fdt_property_u32(w->buf, "#interrupt-cells", 3));
	chk(w, fdt_property(w->buf, "interrupt-controller", NULL, 0));
	chk(w, fdt_property_u32(w->buf, "#redistributor-regions", 1));
	prop_reg64(w, reg, 4);
	chk(w, fdt_property_u32(w->buf, "phandle", PHANDLE_GIC));
	end(w);
}

static void add_timer(struct fdt_writer *w)
{
	const uint32_t irqs[12] = {
		ARM64_GIC_PPI, ARM64_TIMER_PPI_S, ARM64_IRQ_LEVEL_HIGH,
		ARM64_GIC_PPI, ARM64_TIMER_PPI_NS, ARM64_IRQ_LEVEL_HIGH,
		ARM64_GIC_PPI, ARM64_TIMER_PPI_VIRT, ARM64_IRQ_LEVEL_HIGH,
		ARM64_GIC_PPI, ARM64_TIMER_PPI_HYP, ARM64_IRQ_LEVEL_HIGH,
	};

	begin(w, "timer");
	chk(w, fdt_property_string(w->buf, "compatible", "arm,armv8-timer"));
	prop_u32s(w, "interrupts", irqs, 12);
	chk(w, fdt_property(w->buf, "always-on", NULL, 0));
	end(w);
}

static void add_uart(struct fdt_writer *w, char *path, size_t pathlen)
{
	static const char compat[] = "arm,pl011\0arm,primecell";
	static const char clock_names[] = "uartclk\0apb_pclk";
	const uint32_t irq[3] = { ARM64_GIC_SPI, ARM64_UART_SPI,
				  ARM64_IRQ_LEVEL_HIGH };
	const uint32_t clocks[2] = { PHANDLE_CLK, PHANDLE_CLK };
	uint64_t reg[2] = { ARM64_UART_BASE, ARM64_UART_SIZE };

	begin(w, "apb-pclk");
	chk(w, fdt_property_string(w->buf, "compatible", "fixed-clock"));
	chk(w, fdt_property_u32(w->buf, "#clock-cells", 0));
	chk(w, fdt_property_u32(w->buf, "clock-frequency", APB_CLOCK_HZ));
	chk(w, fdt_property_string(w->buf, "clock-output-names",
				   "clk24mhz"));
	chk(w, fdt_property_u32(w->buf, "phandle", PHANDLE_CLK));
	end(w);

	snprintf(path, pathlen, "/pl011@%llx",
		 (unsigned long long)ARM64_UART_BASE);
	begin(w, path + 1);
	prop_strs(w, "compatible", compat, sizeof(compat));
	prop_reg64(w, reg, 2);
	prop_u32s(w, "interrupts", irq, 3);
	prop_u32s(w, "clocks", clocks, 2);
	prop_strs(w, "clock-names", clock_names, sizeof(clock_names));
	end(w);
}

int arm64_fdt_build(const struct arm64_fdt_config *c, void *buf, size_t cap,
		    char *err, size_t errlen)
{
	static const char psci_compat[] = "arm,psci-0.2\0arm,psci";
	struct fdt_writer w = { .buf = buf };
	uint64_t reg[2];
	char name[48], uart_path[48];

	if (!c->nr_cpus || c->nr_cpus > ARM64_FDT_MAX_CPUS || !c->ram_size ||
	    cap > INT32_MAX) {
		snprintf(err, errlen, "device tree: bad machine description");
		return -EINVAL;
	}
	chk(&w, fdt_create(buf, (int)cap));
	chk(&w, fdt_finish_reservemap(buf));
	begin(&w, "");
	chk(&w, fdt_property_u32(buf, "#address-cells", 2));
	chk(&w, fdt_property_u32(buf, "#size-cells", 2));
	chk(&w, fdt_property_string(buf, "compatible", "linux,dummy-virt"));
	chk(&w, fdt_property_string(buf, "model", "kvmdbg arm64 virt"));
	chk(&w, fdt_property_u32(buf, "interrupt-parent", PHANDLE_GIC));

	begin(&w, "psci");
	prop_strs(&w, "compatible", psci_compat, sizeof(psci_compat));
	chk(&w, fdt_property_string(buf, "method", "hvc"));
	end(&w);

	snprintf(name, sizeof(name), "memory@%" PRIx64, c->ram_base);
	begin(&w, name);
	chk(&w, fdt_property_string(buf, "device_type", "memory"));
	reg[0] = c->ram_base;
	reg[1] = c->ram_size;
	prop_reg64(&w, reg, 2);
	end(&w);

	add_cpus(&w, c);
	add_gic(&w, c->nr_cpus);
	add_timer(&w);
	add_uart(&w, uart_path, sizeof(uart_path));

	snprintf(name, sizeof(name), "kvmdbg-exit@%llx",
		 (unsigned long long)ARM64_EXIT_BASE);
	begin(&w, name);
	chk(&w, fdt_property_string(buf, "compatible", "kvmdbg,exit"));
	reg[0] = ARM64_EXIT_BASE;
	reg[1] = ARM64_EXIT_SIZE;
	prop_reg64(&w, reg, 2);
	end(&w);

	begin(&w, "chosen");
	if (c->bootargs)
		chk(&w, fdt_property_string(buf, "bootargs", c->bootargs));
	chk(&w, fdt_property_string(buf, "stdout-path", uart_path));
	end(&w);

	end(&w);
	chk(&w, fdt_finish(buf));
	if (w.err) {
		if (w.err == -FDT_ERR_NOSPACE) {
			snprintf(err, errlen,
				 "the device tree does not fit in %zu bytes "
				 "(is --append too long?)", cap);
			return -ENOSPC;
		}
		snprintf(err, errlen, "device tree: %s", fdt_strerror(w.err));
		return -EINVAL;
	}
	return (int)fdt_totalsize(buf);
}
