/* arm64 register cache and gdb's aarch64 layout. Registers move one at a
 * time through KVM_GET/SET_ONE_REG; the cache keeps a stop to one load of
 * each part a debugger looks at and writes back only what it changed. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/kvm.h>

#include "arch/xml.h"
#include "arch/arm64/regs.h"

#define CORE_ID(size, field) \
	(KVM_REG_ARM64 | (size) | KVM_REG_ARM_CORE | \
	 KVM_REG_ARM_CORE_REG(field))
#define CORE64(field) CORE_ID(KVM_REG_SIZE_U64, field)
#define SYSREG(op0, op1, crn, crm, op2) ARM64_SYS_REG(op0, op1, crn, crm, op2)

enum feature { FEAT_CORE, FEAT_FPU, FEAT_SYSTEM, FEAT_COUNT };

static const char *const feature_names[FEAT_COUNT] = {
	"org.gnu.gdb.aarch64.core",
	"org.gnu.gdb.aarch64.fpu",
	"org.kvmdbg.aarch64.system",
};

struct reg_desc {
	char name[12];
	uint8_t bits;
	uint8_t feature;
	const char *type;
	const char *generic; /* lldb's generic name */
	int dwarf;	     /* -1: none */
	const char *group;
};

static struct reg_desc descs[ARM64_GDB_NR_REGS];
static uint64_t kvm_ids[ARM64_GDB_NR_REGS];
static pthread_once_t descs_once = PTHREAD_ONCE_INIT;

static void set_desc(unsigned r, const char *name, unsigned bits,
		     enum feature f, const char *type, int dwarf, uint64_t id)
{
	snprintf(descs[r].name, sizeof(descs[r].name), "%s", name);
	descs[r].bits = (uint8_t)bits;
	descs[r].feature = (uint8_t)f;
	descs[r].type = type;
	descs[r].dwarf = dwarf;
	kvm_ids[r] = id;
}

static void build_descs(void)
{
	static const struct {
		const char *name;
		uint64_t id;
	} sys[] = {
		{ "sctlr_el1", SYSREG(3, 0, 1, 0, 0) },
		{ "tcr_el1", SYSREG(3, 0, 2, 0, 2) },
		{ "ttbr0_el1", SYSREG(3, 0, 2, 0, 0) },
		{ "ttbr1_el1", SYSREG(3, 0, 2, 0, 1) },
		{ "mair_el1", SYSREG(3, 0, 10, 2, 0) },
		{ "vbar_el1", SYSREG(3, 0, 12, 0, 0) },
		{ "esr_el1", SYSREG(3, 0, 5, 2, 0) },
		{ "far_el1", SYSREG(3, 0, 6, 0, 0) },
		{ "elr_el1", CORE64(elr_el1) },
		{ "spsr_el1", CORE64(spsr[KVM_SPSR_EL1]) },
		{ "sp_el0", CORE64(regs.sp) },
		{ "sp_el1", CORE64(sp_el1) },
		{ "mpidr_el1", SYSREG(3, 0, 0, 0, 5) },
	};
	char name[12];

	for (unsigned i = 0; i <= 30; i++) {
		snprintf(name, sizeof(name), "x%u", i);
		set_desc(ARM64_GDB_X0 + i, name, 64, FEAT_CORE, "int", (int)i,
			 CORE64(regs.regs[i]));
	}
	descs[ARM64_GDB_X29].generic = "fp";
	descs[ARM64_GDB_X30].generic = "ra";
	set_desc(ARM64_GDB_SP, "sp", 64, FEAT_CORE, "data_ptr", 31, 0);
	descs[ARM64_GDB_SP].generic = "sp";
	set_desc(ARM64_GDB_PC, "pc", 64, FEAT_CORE, "code_ptr", 32,
		 CORE64(regs.pc));
	descs[ARM64_GDB_PC].generic = "pc";
	set_desc(ARM64_GDB_CPSR, "cpsr", 32, FEAT_CORE, "cpsr_flags", -1,
		 CORE64(regs.pstate));
	descs[ARM64_GDB_CPSR].generic = "flags";
	for (unsigned i = 0; i < 32; i++) {
		snprintf(name, sizeof(name), "v%u", i);
		set_desc(ARM64_GDB_V0 + i, name, 128, FEAT_FPU, "aarch64v",
			 64 + (int)i,
			 CORE_ID(KVM_REG_SIZE_U128, fp_regs.vregs[i]));
	}
	set_desc(ARM64_GDB_FPSR, "fpsr", 32, FEAT_FPU, "int", -1,
		 CORE_ID(KVM_REG_SIZE_U32, fp_regs.fpsr));
	set_desc(ARM64_GDB_FPCR, "fpcr", 32, FEAT_FPU, "int", -1,
		 CORE_ID(KVM_REG_SIZE_U32, fp_regs.fpcr));
	for (unsigned i = 0; i < sizeof(sys) / sizeof(sys[0]); i++) {
		set_desc(ARM64_GDB_SCTLR_EL1 + i, sys[i].name, 64, FEAT_SYSTEM,
			 "uint64", -1, sys[i].id);
		descs[ARM64_GDB_SCTLR_EL1 + i].group = "system";
	}
	descs[ARM64_GDB_VBAR_EL1].type = "code_ptr";
	descs[ARM64_GDB_ELR_EL1].type = "code_ptr";
	descs[ARM64_GDB_SP_EL0].type = "data_ptr";
	descs[ARM64_GDB_SP_EL1].type = "data_ptr";
}

static const struct reg_desc *desc(unsigned regno)
{
	pthread_once(&descs_once, build_descs);
	return &descs[regno];
}

unsigned arm64_gdb_nr_regs(void)
{
	return ARM64_GDB_NR_REGS;
}

unsigned arm64_gdb_reg_size(unsigned regno)
{
	return regno < ARM64_GDB_NR_REGS ? desc(regno)->bits / 8u : 0;
}

uint64_t arm64_kvm_reg_id(unsigned regno)
{
	if (regno >= ARM64_GDB_NR_REGS)
		return 0;
	desc(regno);
	return kvm_ids[regno];
}

unsigned arm64_gdb_reg_part(unsigned regno)
{
	if (regno >= ARM64_GDB_NR_REGS)
		return 0;
	switch (desc(regno)->feature) {
	case FEAT_CORE:
		return ARM64_PART_CORE;
	case FEAT_FPU:
		return ARM64_PART_FP;
	default:
		/* elr, spsr and the stack pointers are core registers to KVM,
		 * shown among the system ones. */
		return (kvm_ids[regno] & KVM_REG_ARM_COPROC_MASK) ==
				       KVM_REG_ARM_CORE
			       ? ARM64_PART_CORE
			       : ARM64_PART_SYS;
	}
}

/* ---- target.xml ------------------------------------------------------- */

/* The types gdb's own aarch64 descriptions use, so `p $v0` prints the
 * same views as under gdbserver. */
static void xml_types(struct xml_buf *x, enum feature f)
{
	static const struct {
		const char *id, *type;
		unsigned count;
	} vecs[] = {
		{ "v2d", "ieee_double", 2 }, { "v2u", "uint64", 2 },
		{ "v2i", "int64", 2 },	     { "v4f", "ieee_single", 4 },
		{ "v4u", "uint32", 4 },	     { "v4i", "int32", 4 },
		{ "v8u", "uint16", 8 },	     { "v8i", "int16", 8 },
		{ "v16u", "uint8", 16 },     { "v16i", "int8", 16 },
		{ "v1u", "uint128", 1 },     { "v1i", "int128", 1 },
	};
	static const struct {
		const char *id, *f1, *t1, *f2, *t2, *f3, *t3;
	} unions[] = {
		{ "vnd", "f", "v2d", "u", "v2u", "s", "v2i" },
		{ "vns", "f", "v4f", "u", "v4u", "s", "v4i" },
		{ "vnh", "u", "v8u", "s", "v8i", NULL, NULL },
		{ "vnb", "u", "v16u", "s", "v16i", NULL, NULL },
		{ "vnq", "u", "v1u", "s", "v1i", NULL, NULL },
	};

	if (f == FEAT_CORE) {
		xml_add(x, "  <flags id=\"cpsr_flags\" size=\"4\">\n"
			   "    <field name=\"SP\" start=\"0\" end=\"0\"/>\n"
			   "    <field name=\"EL\" start=\"2\" end=\"3\"/>\n"
			   "    <field name=\"nRW\" start=\"4\" end=\"4\"/>\n"
			   "    <field name=\"F\" start=\"6\" end=\"6\"/>\n"
			   "    <field name=\"I\" start=\"7\" end=\"7\"/>\n"
			   "    <field name=\"A\" start=\"8\" end=\"8\"/>\n"
			   "    <field name=\"D\" start=\"9\" end=\"9\"/>\n"
			   "    <field name=\"SS\" start=\"21\" end=\"21\"/>\n"
			   "    <field name=\"V\" start=\"28\" end=\"28\"/>\n"
			   "    <field name=\"C\" start=\"29\" end=\"29\"/>\n"
			   "    <field name=\"Z\" start=\"30\" end=\"30\"/>\n"
			   "    <field name=\"N\" start=\"31\" end=\"31\"/>\n"
			   "  </flags>\n");
		return;
	}
	if (f != FEAT_FPU)
		return;
	for (unsigned i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++)
		xml_add(x, "  <vector id=\"%s\" type=\"%s\" count=\"%u\"/>\n",
			vecs[i].id, vecs[i].type, vecs[i].count);
	for (unsigned i = 0; i < sizeof(unions) / sizeof(unions[0]); i++) {
		xml_add(x, "  <union id=\"%s\">\n", unions[i].id);
		xml_add(x, "    <field name=\"%s\" type=\"%s\"/>\n", unions[i].f1,
			unions[i].t1);
		xml_add(x, "    <field name=\"%s\" type=\"%s\"/>\n", unions[i].f2,
			unions[i].t2);
		if (unions[i].f3)
			xml_add(x, "    <field name=\"%s\" type=\"%s\"/>\n",
				unions[i].f3, unions[i].t3);
		xml_add(x, "  </union>\n");
	}
	xml_add(x, "  <union id=\"aarch64v\">\n"
		   "    <field name=\"d\" type=\"vnd\"/>\n"
		   "    <field name=\"s\" type=\"vns\"/>\n"
		   "    <field name=\"h\" type=\"vnh\"/>\n"
		   "    <field name=\"b\" type=\"vnb\"/>\n"
		   "    <field name=\"q\" type=\"vnq\"/>\n"
		   "  </union>\n");
}

static void xml_reg(struct xml_buf *x, unsigned regno)
{
	const struct reg_desc *r = desc(regno);
	const struct xml_reg xr = {
		.name = r->name,
		.type = r->type,
		.bits = r->bits,
		.regnum = regno,
		.group = r->group,
		.generic = r->generic,
		.generic_alias = false,
		.dwarf = r->dwarf,
	};

	xml_add_reg(x, &xr);
}

static char target_xml[24576];
static const char *target_xml_ready;
static pthread_once_t target_xml_once = PTHREAD_ONCE_INIT;

static void build_target_xml(void)
{
	struct xml_buf x = { .p = target_xml, .cap = sizeof(target_xml) };

	xml_add(&x, "<?xml version=\"1.0\"?>\n"
		    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
		    "<target version=\"1.0\">\n"
		    "<architecture>aarch64</architecture>\n");
	for (unsigned f = 0; f < FEAT_COUNT; f++) {
		xml_add(&x, "<feature name=\"%s\">\n", feature_names[f]);
		xml_types(&x, (enum feature)f);
		for (unsigned i = 0; i < ARM64_GDB_NR_REGS; i++)
			if (desc(i)->feature == f)
				xml_reg(&x, i);
		xml_add(&x, "</feature>\n");
	}
	xml_add(&x, "</target>\n");
	if (!x.overflow)
		target_xml_ready = target_xml;
}

const char *arm64_gdb_features_xml(const char *annex)
{
	if (!annex || strcmp(annex, "target.xml") != 0)
		return NULL;
	pthread_once(&target_xml_once, build_target_xml);
	return target_xml_ready;
}

/* ---- The cache ------------------------------------------------------- */

static unsigned kvm_size(uint64_t id)
{
	return 1u << ((id & KVM_REG_SIZE_MASK) >> KVM_REG_SIZE_SHIFT);
}

#define BIT_OF(set, r) (((set)[(r) / 64] >> ((r) % 64)) & 1)
#define SET_BIT(set, r) ((set)[(r) / 64] |= 1ULL << ((r) % 64))
#define CLEAR_BIT(set, r) ((set)[(r) / 64] &= ~(1ULL << ((r) % 64)))

static int load_one(const struct arm64_reg_io *io, struct arm64_cpu_state *s,
		    unsigned regno)
{
	uint64_t id = arm64_kvm_reg_id(regno);
	uint8_t buf[16] = { 0 };
	int ret;

	if (BIT_OF(s->valid, regno) || !id)
		return 0;
	ret = io->get(io->ctx, id, buf);
	if (ret < 0)
		return ret;
	memcpy(&s->val[regno][0], buf, 8);
	memcpy(&s->val[regno][1], buf + 8, 8);
	/* Narrow registers keep only their own bits. */
	if (kvm_size(id) < 16)
		s->val[regno][1] = 0;
	if (kvm_size(id) == 4)
		s->val[regno][0] &= 0xffffffffu;
	SET_BIT(s->valid, regno);
	return 0;
}

int arm64_state_load(const struct arm64_reg_io *io, struct arm64_cpu_state *s,
		     unsigned parts)
{
	for (unsigned r = 0; r < ARM64_GDB_NR_REGS; r++) {
		int ret;

		if (!(arm64_gdb_reg_part(r) & parts))
			continue;
		ret = load_one(io, s, r);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int arm64_state_load_reg(const struct arm64_reg_io *io,
			 struct arm64_cpu_state *s, unsigned regno)
{
	int ret;

	if (regno >= ARM64_GDB_NR_REGS)
		return -EINVAL;
	if (regno != ARM64_GDB_SP)
		return load_one(io, s, regno);
	ret = load_one(io, s, ARM64_GDB_CPSR);
	if (ret == 0)
		ret = load_one(io, s, ARM64_GDB_SP_EL0);
	if (ret == 0)
		ret = load_one(io, s, ARM64_GDB_SP_EL1);
	return ret;
}

int arm64_state_flush(const struct arm64_reg_io *io,
		      struct arm64_cpu_state *s)
{
	int first = 0;

	/* PSTATE first: the stack pointer a debugger wrote belongs to the
	 * mode it set. */
	for (unsigned k = 0; k <= ARM64_GDB_NR_REGS; k++) {
		unsigned r = k == 0 ? ARM64_GDB_CPSR : k - 1;
		uint64_t id = arm64_kvm_reg_id(r);
		uint8_t buf[16];
		int ret;

		if (k > 0 && r == ARM64_GDB_CPSR)
			continue;
		if (!BIT_OF(s->dirty, r) || !id)
			continue;
		memcpy(buf, &s->val[r][0], 8);
		memcpy(buf + 8, &s->val[r][1], 8);
		ret = io->set(io->ctx, id, buf);
		CLEAR_BIT(s->dirty, r);
		if (ret < 0) {
			if (!first)
				first = ret;
			CLEAR_BIT(s->valid, r);
			load_one(io, s, r);
		}
	}
	return first;
}

void arm64_state_invalidate(struct arm64_cpu_state *s)
{
	s->valid[0] = s->valid[1] = 0;
	s->dirty[0] = s->dirty[1] = 0;
}

static unsigned resolve(const struct arm64_cpu_state *s, unsigned regno)
{
	if (regno != ARM64_GDB_SP)
		return regno;
	/* PSTATE.M[0] is SPSel at EL1 (EL1h) and 0 at EL0 (EL0t). */
	return (s->val[ARM64_GDB_CPSR][0] & 1) ? ARM64_GDB_SP_EL1
					       : ARM64_GDB_SP_EL0;
}

uint64_t arm64_reg_get(const struct arm64_cpu_state *s, unsigned regno)
{
	return regno < ARM64_GDB_NR_REGS ? s->val[resolve(s, regno)][0] : 0;
}

void arm64_reg_set(struct arm64_cpu_state *s, unsigned regno, uint64_t v)
{
	unsigned r;

	if (regno >= ARM64_GDB_NR_REGS)
		return;
	r = resolve(s, regno);
	if (arm64_gdb_reg_size(r) == 4)
		v &= 0xffffffffu;
	if (s->val[r][0] == v)
		return;
	s->val[r][0] = v;
	SET_BIT(s->dirty, r);
}

int arm64_gdb_read_reg(const struct arm64_cpu_state *s, unsigned regno,
		       uint8_t *buf)
{
	unsigned n = arm64_gdb_reg_size(regno), r;
	uint8_t tmp[16];

	if (!n)
		return -EINVAL;
	r = resolve(s, regno);
	memcpy(tmp, &s->val[r][0], 8);
	memcpy(tmp + 8, &s->val[r][1], 8);
	memcpy(buf, tmp, n);
	return 0;
}

int arm64_gdb_write_reg(struct arm64_cpu_state *s, unsigned regno,
			const uint8_t *buf)
{
	unsigned n = arm64_gdb_reg_size(regno), r;
	uint64_t lo = 0, hi = 0;

	if (!n)
		return -EINVAL;
	r = resolve(s, regno);
	memcpy(&lo, buf, n < 8 ? n : 8);
	if (n > 8)
		memcpy(&hi, buf + 8, n - 8);
	if (s->val[r][0] == lo && s->val[r][1] == hi)
		return 0;
	s->val[r][0] = lo;
	s->val[r][1] = hi;
	SET_BIT(s->dirty, r);
	return 0;
}
