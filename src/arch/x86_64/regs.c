/* x86_64 register cache over KVM_GET/SET_{REGS,SREGS,XSAVE}, and gdb's amd64
 * register layout and target description on top of it. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "arch/xml.h"
#include "arch/x86_64/regs.h"
#include "vmm/kvm.h"

/*
 * Byte offsets in the FXSAVE64 image that starts the XSAVE area (Intel SDM
 * vol. 1, 10.5.1), and in the XSAVE header after it (13.4.2).
 */
#define FX_FCW 0
#define FX_FSW 2
/* The abridged tag: one bit per physical register, set when not empty. */
#define FX_FTW 4
#define FX_FOP 6
#define FX_FIP 8  /* 64-bit offset; no FCS in the 64-bit format */
#define FX_FDP 16 /* 64-bit offset; no FDS */
#define FX_MXCSR 24
#define FX_MXCSR_MASK 28
#define FX_ST0 32 /* ST(0)..ST(7), 16 bytes apart, in stack order */
#define FX_XMM0 160
#define XSAVE_XSTATE_BV 512

#define XFEATURE_X87 (1ULL << 0)
#define XFEATURE_SSE (1ULL << 1)

/* The SDM's value for a zero MXCSR_MASK: every bit but DAZ is writable. */
#define MXCSR_MASK_DEFAULT 0xffbfU

/* The EFLAGS bits software may set; bit 1 always reads as 1. */
#define EFLAGS_FIXED 0x2ULL
#define EFLAGS_WRITABLE 0x3f7fd5ULL

#define CR4_LA57 (1ULL << 12)

/* kvm_ioctl() checks the argument size against the ioctl number. */
_Static_assert(sizeof(struct x86_xsave_area) == sizeof(struct kvm_xsave),
	       "the XSAVE area is what KVM_GET_XSAVE transfers");

int x86_state_load(int vcpu_fd, struct x86_cpu_state *s, uint64_t parts)
{
	uint64_t need;
	long ret;

	if (parts & ~X86_STATE_ALL)
		return -EINVAL;
	need = parts & ~s->valid;
	if (need & X86_STATE_REGS) {
		ret = kvm_ioctl(vcpu_fd, KVM_GET_REGS, &s->regs);
		if (ret < 0)
			return (int)ret;
		s->valid |= X86_STATE_REGS;
	}
	if (need & X86_STATE_SREGS) {
		ret = kvm_ioctl(vcpu_fd, KVM_GET_SREGS, &s->sregs);
		if (ret < 0)
			return (int)ret;
		s->valid |= X86_STATE_SREGS;
	}
	if (need & X86_STATE_FPU) {
		ret = kvm_ioctl(vcpu_fd, KVM_GET_XSAVE, &s->xsave);
		if (ret < 0)
			return (int)ret;
		s->valid |= X86_STATE_FPU;
	}
	return 0;
}

/* Record the outcome of writing one part back; see x86_state_flush(). */
static int settle(struct x86_cpu_state *s, uint64_t part, long ret,
		  int first_err)
{
	s->dirty &= ~part;
	if (ret >= 0)
		return first_err;
	s->valid &= ~part;
	return first_err ? first_err : (int)ret;
}

int x86_state_flush(int vcpu_fd, struct x86_cpu_state *s)
{
	int err = 0;

	if (s->dirty & X86_STATE_SREGS)
		err = settle(s, X86_STATE_SREGS,
			     kvm_ioctl(vcpu_fd, KVM_SET_SREGS, &s->sregs), err);
	if (s->dirty & X86_STATE_REGS)
		err = settle(s, X86_STATE_REGS,
			     kvm_ioctl(vcpu_fd, KVM_SET_REGS, &s->regs), err);
	if (s->dirty & X86_STATE_FPU)
		err = settle(s, X86_STATE_FPU,
			     kvm_ioctl(vcpu_fd, KVM_SET_XSAVE, &s->xsave), err);
	return err;
}

void x86_state_invalidate(struct x86_cpu_state *s)
{
	s->valid = 0;
	s->dirty = 0;
	s->mp_valid = false;
}

/* ---- The register table ------------------------------------------------ */

enum x86_feature {
	FEAT_CORE,
	FEAT_SSE,
	FEAT_SEGMENTS,
	FEAT_SYSTEM,
	FEAT_COUNT
};

struct x86_reg_desc {
	const char *name;
	unsigned bits;
	enum x86_feature feature;
	const char *type;  /* a gdb predefined type or one defined below */
	const char *group; /* gdb reggroup; lldb's register set */
	/* The psABI DWARF number, which x86-64 also uses in eh_frame; -1 for
	 * none. */
	int dwarf;
	const char *generic; /* lldb: pc, sp, fp, flags, argN */
};

#define R(n, b, f, t, grp, d, gen)                                             \
	{                                                                      \
		.name = n, .bits = b, .feature = f, .type = t, .group = grp,   \
		.dwarf = d, .generic = gen                                     \
	}
#define GPR(n, d, gen) R(n, 64, FEAT_CORE, "int64", "general", d, gen)
#define SEL(n, d) R(n, 32, FEAT_CORE, "int32", "general", d, NULL)
#define ST(i) R("st" #i, 80, FEAT_CORE, "i387_ext", "float", 33 + (i), NULL)
#define FPC(n, d) R(n, 32, FEAT_CORE, "int", "float", d, NULL)
#define XMM(i) R("xmm" #i, 128, FEAT_SSE, "vec128", "vector", 17 + (i), NULL)
#define SYS(n, t) R(n, 64, FEAT_SYSTEM, t, "system", -1, NULL)

static const struct x86_reg_desc reg_desc[X86_GDB_NR_REGS] = {
    [X86_GDB_RAX] = GPR("rax", 0, NULL),
    [X86_GDB_RBX] = GPR("rbx", 3, NULL),
    [X86_GDB_RCX] = GPR("rcx", 2, "arg4"),
    [X86_GDB_RDX] = GPR("rdx", 1, "arg3"),
    [X86_GDB_RSI] = GPR("rsi", 4, "arg2"),
    [X86_GDB_RDI] = GPR("rdi", 5, "arg1"),
    [X86_GDB_RBP] = R("rbp", 64, FEAT_CORE, "data_ptr", "general", 6, "fp"),
    [X86_GDB_RSP] = R("rsp", 64, FEAT_CORE, "data_ptr", "general", 7, "sp"),
    [X86_GDB_R8] = GPR("r8", 8, "arg5"),
    [X86_GDB_R9] = GPR("r9", 9, "arg6"),
    [X86_GDB_R10] = GPR("r10", 10, NULL),
    [X86_GDB_R11] = GPR("r11", 11, NULL),
    [X86_GDB_R12] = GPR("r12", 12, NULL),
    [X86_GDB_R13] = GPR("r13", 13, NULL),
    [X86_GDB_R14] = GPR("r14", 14, NULL),
    [X86_GDB_R15] = GPR("r15", 15, NULL),
    /* DWARF 16 is the return-address column; gdb and lldb map it to rip. */
    [X86_GDB_RIP] = R("rip", 64, FEAT_CORE, "code_ptr", "general", 16, "pc"),
    [X86_GDB_EFLAGS] =
	R("eflags", 32, FEAT_CORE, "i386_eflags", "general", 49, "flags"),
    [X86_GDB_CS] = SEL("cs", 51),
    [X86_GDB_SS] = SEL("ss", 52),
    [X86_GDB_DS] = SEL("ds", 53),
    [X86_GDB_ES] = SEL("es", 50),
    [X86_GDB_FS] = SEL("fs", 54),
    [X86_GDB_GS] = SEL("gs", 55),
    [X86_GDB_ST0 + 0] = ST(0),
    [X86_GDB_ST0 + 1] = ST(1),
    [X86_GDB_ST0 + 2] = ST(2),
    [X86_GDB_ST0 + 3] = ST(3),
    [X86_GDB_ST0 + 4] = ST(4),
    [X86_GDB_ST0 + 5] = ST(5),
    [X86_GDB_ST0 + 6] = ST(6),
    [X86_GDB_ST0 + 7] = ST(7),
    [X86_GDB_FCTRL] = FPC("fctrl", 65),
    [X86_GDB_FSTAT] = FPC("fstat", 66),
    [X86_GDB_FTAG] = FPC("ftag", -1),
    [X86_GDB_FISEG] = FPC("fiseg", -1),
    [X86_GDB_FIOFF] = FPC("fioff", -1),
    [X86_GDB_FOSEG] = FPC("foseg", -1),
    [X86_GDB_FOOFF] = FPC("fooff", -1),
    [X86_GDB_FOP] = FPC("fop", -1),
    [X86_GDB_XMM0 + 0] = XMM(0),
    [X86_GDB_XMM0 + 1] = XMM(1),
    [X86_GDB_XMM0 + 2] = XMM(2),
    [X86_GDB_XMM0 + 3] = XMM(3),
    [X86_GDB_XMM0 + 4] = XMM(4),
    [X86_GDB_XMM0 + 5] = XMM(5),
    [X86_GDB_XMM0 + 6] = XMM(6),
    [X86_GDB_XMM0 + 7] = XMM(7),
    [X86_GDB_XMM0 + 8] = XMM(8),
    [X86_GDB_XMM0 + 9] = XMM(9),
    [X86_GDB_XMM0 + 10] = XMM(10),
    [X86_GDB_XMM0 + 11] = XMM(11),
    [X86_GDB_XMM0 + 12] = XMM(12),
    [X86_GDB_XMM0 + 13] = XMM(13),
    [X86_GDB_XMM0 + 14] = XMM(14),
    [X86_GDB_XMM0 + 15] = XMM(15),
    [X86_GDB_MXCSR] =
	R("mxcsr", 32, FEAT_SSE, "i386_mxcsr", "vector", 64, NULL),
    [X86_GDB_FS_BASE] =
	R("fs_base", 64, FEAT_SEGMENTS, "int", "general", 58, NULL),
    [X86_GDB_GS_BASE] =
	R("gs_base", 64, FEAT_SEGMENTS, "int", "general", 59, NULL),
    [X86_GDB_CR0] = SYS("cr0", "x86_cr0"),
    [X86_GDB_CR2] = SYS("cr2", "uint64"),
    [X86_GDB_CR3] = SYS("cr3", "uint64"),
    [X86_GDB_CR4] = SYS("cr4", "x86_cr4"),
    [X86_GDB_CR8] = SYS("cr8", "uint64"),
    [X86_GDB_EFER] = SYS("efer", "x86_efer"),
};

#undef R
#undef GPR
#undef SEL
#undef ST
#undef FPC
#undef XMM
#undef SYS

unsigned x86_gdb_nr_regs(void)
{
	return X86_GDB_NR_REGS;
}

unsigned x86_gdb_reg_size(unsigned regno)
{
	return regno < X86_GDB_NR_REGS ? reg_desc[regno].bits / 8 : 0;
}

uint64_t x86_gdb_reg_parts(unsigned regno)
{
	if (regno <= X86_GDB_EFLAGS)
		return X86_STATE_REGS;
	if (regno <= X86_GDB_GS)
		return X86_STATE_SREGS;
	if (regno <= X86_GDB_MXCSR)
		return X86_STATE_FPU;
	if (regno < X86_GDB_NR_REGS)
		return X86_STATE_SREGS;
	return 0;
}

/* ---- The target description -------------------------------------------- */

struct x86_flag_bit {
	const char *name;
	unsigned bit;
};

struct x86_flags_type {
	const char *id;
	unsigned size; /* bytes */
	enum x86_feature feature;
	const struct x86_flag_bit *bits;
	unsigned nr_bits;
};

/* IOPL (bits 12-13) is left out, as in gdb's own i386_eflags. */
static const struct x86_flag_bit eflags_bits[] = {
    {"CF", 0},	{"PF", 2},   {"AF", 4},	  {"ZF", 6},  {"SF", 7},  {"TF", 8},
    {"IF", 9},	{"DF", 10},  {"OF", 11},  {"NT", 14}, {"RF", 16}, {"VM", 17},
    {"AC", 18}, {"VIF", 19}, {"VIP", 20}, {"ID", 21},
};

static const struct x86_flag_bit mxcsr_bits[] = {
    {"IE", 0},	{"DE", 1},  {"ZE", 2},	{"OE", 3},  {"UE", 4},
    {"PE", 5},	{"DAZ", 6}, {"IM", 7},	{"DM", 8},  {"ZM", 9},
    {"OM", 10}, {"UM", 11}, {"PM", 12}, {"FZ", 15},
};

static const struct x86_flag_bit cr0_bits[] = {
    {"PE", 0},	{"MP", 1},  {"EM", 2},	{"TS", 3},  {"ET", 4},	{"NE", 5},
    {"WP", 16}, {"AM", 18}, {"NW", 29}, {"CD", 30}, {"PG", 31},
};

static const struct x86_flag_bit cr4_bits[] = {
    {"VME", 0},	   {"PVI", 1},	    {"TSD", 2},		{"DE", 3},
    {"PSE", 4},	   {"PAE", 5},	    {"MCE", 6},		{"PGE", 7},
    {"PCE", 8},	   {"OSFXSR", 9},   {"OSXMMEXCPT", 10}, {"UMIP", 11},
    {"LA57", 12},  {"VMXE", 13},    {"SMXE", 14},	{"FSGSBASE", 16},
    {"PCIDE", 17}, {"OSXSAVE", 18}, {"SMEP", 20},	{"SMAP", 21},
    {"PKE", 22},   {"CET", 23},	    {"PKS", 24},
};

static const struct x86_flag_bit efer_bits[] = {
    {"SCE", 0},	  {"LME", 8},	 {"LMA", 10},	{"NXE", 11},
    {"SVME", 12}, {"LMSLE", 13}, {"FFXSR", 14}, {"TCE", 15},
};

#define FLAGS(i, sz, f, b)                                                     \
	{                                                                      \
		.id = i, .size = sz, .feature = f, .bits = b,                  \
		.nr_bits = sizeof(b) / sizeof(b[0])                            \
	}

static const struct x86_flags_type flags_types[] = {
    FLAGS("i386_eflags", 4, FEAT_CORE, eflags_bits),
    FLAGS("i386_mxcsr", 4, FEAT_SSE, mxcsr_bits),
    FLAGS("x86_cr0", 8, FEAT_SYSTEM, cr0_bits),
    FLAGS("x86_cr4", 8, FEAT_SYSTEM, cr4_bits),
    FLAGS("x86_efer", 8, FEAT_SYSTEM, efer_bits),
};

#undef FLAGS

/*
 * gdb's vec128: the views of an xmm register that `p $xmm0.v4_float` and
 * friends name. The bfloat16 and half-precision views that recent gdbs add
 * are left out: an older gdb rejects the whole description when it meets an
 * element type it does not know.
 */
static const struct {
	const char *id, *type;
	unsigned count;
} vec128_lanes[] = {
    {"v4f", "ieee_single", 4}, {"v2d", "ieee_double", 2}, {"v16i8", "int8", 16},
    {"v8i16", "int16", 8},     {"v4i32", "int32", 4},	  {"v2i64", "int64", 2},
};

static const char *const vec128_fields[][2] = {
    {"v4_float", "v4f"},    {"v2_double", "v2d"},  {"v16_int8", "v16i8"},
    {"v8_int16", "v8i16"},  {"v4_int32", "v4i32"}, {"v2_int64", "v2i64"},
    {"uint128", "uint128"},
};

static const char *const feature_names[FEAT_COUNT] = {
    [FEAT_CORE] = "org.gnu.gdb.i386.core",
    [FEAT_SSE] = "org.gnu.gdb.i386.sse",
    [FEAT_SEGMENTS] = "org.gnu.gdb.i386.segments",
    [FEAT_SYSTEM] = "org.kvmdbg.x86.system",
};

static void xml_types(struct xml_buf *x, enum x86_feature f)
{
	for (size_t i = 0; i < sizeof(flags_types) / sizeof(flags_types[0]);
	     i++) {
		const struct x86_flags_type *t = &flags_types[i];

		if (t->feature != f)
			continue;
		xml_add(x, "  <flags id=\"%s\" size=\"%u\">\n", t->id, t->size);
		for (unsigned b = 0; b < t->nr_bits; b++)
			xml_add(x,
				"    <field name=\"%s\" start=\"%u\" "
				"end=\"%u\"/>\n",
				t->bits[b].name, t->bits[b].bit,
				t->bits[b].bit);
		xml_add(x, "  </flags>\n");
	}
	if (f != FEAT_SSE)
		return;
	for (size_t i = 0; i < sizeof(vec128_lanes) / sizeof(vec128_lanes[0]);
	     i++)
		xml_add(x, "  <vector id=\"%s\" type=\"%s\" count=\"%u\"/>\n",
			vec128_lanes[i].id, vec128_lanes[i].type,
			vec128_lanes[i].count);
	xml_add(x, "  <union id=\"vec128\">\n");
	for (size_t i = 0; i < sizeof(vec128_fields) / sizeof(vec128_fields[0]);
	     i++)
		xml_add(x, "    <field name=\"%s\" type=\"%s\"/>\n",
			vec128_fields[i][0], vec128_fields[i][1]);
	xml_add(x, "  </union>\n");
}

/*
 * gdb reads name, bitsize, type, regnum and group and ignores the rest.
 * lldb (ProcessGDBRemote.cpp, ParseRegisters) also reads generic (which
 * register is the pc, sp, fp, flags and argument N, what `si`, `register
 * read pc` and unwinding rely on), dwarf_regnum and ehframe_regnum (to find
 * registers named in debug info and CFI), and altname; it uses group as the
 * name of the register set. Without them lldb falls back to guessing from
 * register names through its ABI plugin, which needs the triple to be known
 * first.
 */
static void xml_reg(struct xml_buf *x, unsigned regno)
{
	const struct x86_reg_desc *r = &reg_desc[regno];
	const struct xml_reg xr = {
		.name = r->name,
		.type = r->type,
		.bits = r->bits,
		.regnum = regno,
		.group = r->group,
		.generic = r->generic,
		.generic_alias = true,
		.dwarf = r->dwarf,
	};

	xml_add_reg(x, &xr);
}

static char target_xml[16384];
static const char *target_xml_ready;
static pthread_once_t target_xml_once = PTHREAD_ONCE_INIT;

static void build_target_xml(void)
{
	struct xml_buf x = {.p = target_xml, .cap = sizeof(target_xml)};

	xml_add(&x, "<?xml version=\"1.0\"?>\n"
		    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
		    "<target version=\"1.0\">\n"
		    "<architecture>i386:x86-64</architecture>\n");
	/* Features in register order: regno never goes backwards across a
	 * feature boundary, so document order is 'g' packet order. */
	for (unsigned f = 0; f < FEAT_COUNT; f++) {
		xml_add(&x, "<feature name=\"%s\">\n", feature_names[f]);
		xml_types(&x, (enum x86_feature)f);
		for (unsigned i = 0; i < X86_GDB_NR_REGS; i++)
			if (reg_desc[i].feature == f)
				xml_reg(&x, i);
		xml_add(&x, "</feature>\n");
	}
	xml_add(&x, "</target>\n");
	if (!x.overflow)
		target_xml_ready = target_xml;
}

const char *x86_gdb_features_xml(const char *annex)
{
	if (!annex || strcmp(annex, "target.xml") != 0)
		return NULL;
	pthread_once(&target_xml_once, build_target_xml);
	return target_xml_ready;
}

/* ---- Reading and writing registers ------------------------------------- */

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static const uint8_t *fx_ro(const struct x86_cpu_state *s)
{
	return (const uint8_t *)s->xsave.region;
}

static uint8_t *fx_rw(struct x86_cpu_state *s)
{
	return (uint8_t *)s->xsave.region;
}

/* gdb numbers the GPRs as the psABI lists them (rbp before rsp), which is
 * not struct kvm_regs order. */
static const size_t gpr_offset[X86_GDB_RIP + 1] = {
    [X86_GDB_RAX] = offsetof(struct kvm_regs, rax),
    [X86_GDB_RBX] = offsetof(struct kvm_regs, rbx),
    [X86_GDB_RCX] = offsetof(struct kvm_regs, rcx),
    [X86_GDB_RDX] = offsetof(struct kvm_regs, rdx),
    [X86_GDB_RSI] = offsetof(struct kvm_regs, rsi),
    [X86_GDB_RDI] = offsetof(struct kvm_regs, rdi),
    [X86_GDB_RBP] = offsetof(struct kvm_regs, rbp),
    [X86_GDB_RSP] = offsetof(struct kvm_regs, rsp),
    [X86_GDB_R8] = offsetof(struct kvm_regs, r8),
    [X86_GDB_R9] = offsetof(struct kvm_regs, r9),
    [X86_GDB_R10] = offsetof(struct kvm_regs, r10),
    [X86_GDB_R11] = offsetof(struct kvm_regs, r11),
    [X86_GDB_R12] = offsetof(struct kvm_regs, r12),
    [X86_GDB_R13] = offsetof(struct kvm_regs, r13),
    [X86_GDB_R14] = offsetof(struct kvm_regs, r14),
    [X86_GDB_R15] = offsetof(struct kvm_regs, r15),
    [X86_GDB_RIP] = offsetof(struct kvm_regs, rip),
};

static const size_t seg_offset[6] = {
    [X86_GDB_CS - X86_GDB_CS] = offsetof(struct kvm_sregs, cs),
    [X86_GDB_SS - X86_GDB_CS] = offsetof(struct kvm_sregs, ss),
    [X86_GDB_DS - X86_GDB_CS] = offsetof(struct kvm_sregs, ds),
    [X86_GDB_ES - X86_GDB_CS] = offsetof(struct kvm_sregs, es),
    [X86_GDB_FS - X86_GDB_CS] = offsetof(struct kvm_sregs, fs),
    [X86_GDB_GS - X86_GDB_CS] = offsetof(struct kvm_sregs, gs),
};

static const struct kvm_segment *segment_ro(const struct kvm_sregs *sr,
					    unsigned regno)
{
	return (const struct kvm_segment *)((const uint8_t *)sr +
					    seg_offset[regno - X86_GDB_CS]);
}

static struct kvm_segment *segment_rw(struct kvm_sregs *sr, unsigned regno)
{
	return (struct kvm_segment *)((uint8_t *)sr +
				      seg_offset[regno - X86_GDB_CS]);
}

/* Full x87 tag of one 80-bit register, from its contents (SDM vol. 1,
 * 8.1.7): 0 valid, 1 zero, 2 special (NaN, infinity, denormal, unnormal). */
static unsigned x87_tag(const uint8_t *st)
{
	uint64_t mantissa = get_le(st, 8);
	unsigned exponent = (unsigned)get_le(st + 8, 2) & 0x7fff;

	if (exponent == 0x7fff)
		return 2;
	if (exponent == 0)
		return mantissa == 0 ? 1 : 2;
	return (mantissa >> 63) ? 0 : 2;
}

/*
 * FXSAVE keeps one tag bit per physical register R0-R7 but the registers in
 * stack order, so physical register i is ST((i - TOP) mod 8).
 */
static uint64_t full_tag_word(const uint8_t *fx)
{
	unsigned ftw = fx[FX_FTW];
	unsigned top = ((unsigned)get_le(fx + FX_FSW, 2) >> 11) & 7;
	uint64_t tag = 0;

	for (unsigned phys = 0; phys < 8; phys++) {
		unsigned t = 3;

		if (ftw & (1u << phys))
			t = x87_tag(fx + FX_ST0 + 16 * ((phys - top) & 7));
		tag |= (uint64_t)t << (2 * phys);
	}
	return tag;
}

static uint8_t abridged_tag(uint64_t full)
{
	uint8_t ftw = 0;

	for (unsigned phys = 0; phys < 8; phys++)
		if (((full >> (2 * phys)) & 3) != 3)
			ftw |= (uint8_t)(1u << phys);
	return ftw;
}

/* The value of a register of at most 8 bytes, zero-extended. */
static uint64_t scalar_get(const struct x86_cpu_state *s, unsigned regno)
{
	const uint8_t *fx = fx_ro(s);

	if (regno <= X86_GDB_RIP)
		return get_le((const uint8_t *)&s->regs + gpr_offset[regno], 8);
	switch (regno) {
	case X86_GDB_EFLAGS:
		return s->regs.rflags & 0xffffffffULL;
	case X86_GDB_CS:
	case X86_GDB_SS:
	case X86_GDB_DS:
	case X86_GDB_ES:
	case X86_GDB_FS:
	case X86_GDB_GS:
		return segment_ro(&s->sregs, regno)->selector;
	case X86_GDB_FCTRL:
		return get_le(fx + FX_FCW, 2);
	case X86_GDB_FSTAT:
		return get_le(fx + FX_FSW, 2);
	case X86_GDB_FTAG:
		return full_tag_word(fx);
	case X86_GDB_FISEG:
		return get_le(fx + FX_FIP + 4, 4);
	case X86_GDB_FIOFF:
		return get_le(fx + FX_FIP, 4);
	case X86_GDB_FOSEG:
		return get_le(fx + FX_FDP + 4, 4);
	case X86_GDB_FOOFF:
		return get_le(fx + FX_FDP, 4);
	case X86_GDB_FOP:
		return get_le(fx + FX_FOP, 2) & 0x7ff;
	case X86_GDB_MXCSR:
		return get_le(fx + FX_MXCSR, 4);
	case X86_GDB_FS_BASE:
		return s->sregs.fs.base;
	case X86_GDB_GS_BASE:
		return s->sregs.gs.base;
	case X86_GDB_CR0:
		return s->sregs.cr0;
	case X86_GDB_CR2:
		return s->sregs.cr2;
	case X86_GDB_CR3:
		return s->sregs.cr3;
	case X86_GDB_CR4:
		return s->sregs.cr4;
	case X86_GDB_CR8:
		return s->sregs.cr8;
	default:
		return s->sregs.efer;
	}
}

/* Canonical for the guest's paging mode: bits 63..47 (63..56 with LA57)
 * all equal. WRFSBASE would fault otherwise, and VM entry fails. */
static bool canonical(const struct x86_cpu_state *s, uint64_t v)
{
	unsigned bits = (s->sregs.cr4 & CR4_LA57) ? 57 : 48;
	uint64_t high = v >> (bits - 1);

	return high == 0 || high == (UINT64_MAX >> (bits - 1));
}

/* Store a register of at most 8 bytes after checking it fits. */
static int scalar_set(struct x86_cpu_state *s, unsigned regno, uint64_t v)
{
	uint8_t *fx = fx_rw(s);
	uint32_t mxcsr_mask;

	if (regno <= X86_GDB_RIP) {
		put_le((uint8_t *)&s->regs + gpr_offset[regno], v, 8);
		return 0;
	}
	switch (regno) {
	case X86_GDB_EFLAGS:
		if (v & ~(EFLAGS_WRITABLE | EFLAGS_FIXED))
			return -EINVAL;
		s->regs.rflags = v | EFLAGS_FIXED;
		return 0;
	case X86_GDB_CS:
	case X86_GDB_SS:
	case X86_GDB_DS:
	case X86_GDB_ES:
	case X86_GDB_FS:
	case X86_GDB_GS:
		if (v > 0xffff)
			return -EINVAL;
		segment_rw(&s->sregs, regno)->selector = (uint16_t)v;
		return 0;
	case X86_GDB_FCTRL:
	case X86_GDB_FSTAT:
		if (v > 0xffff)
			return -EINVAL;
		put_le(fx + (regno == X86_GDB_FCTRL ? FX_FCW : FX_FSW), v, 2);
		return 0;
	case X86_GDB_FTAG:
		if (v > 0xffff)
			return -EINVAL;
		fx[FX_FTW] = abridged_tag(v);
		return 0;
	case X86_GDB_FISEG:
		put_le(fx + FX_FIP + 4, v, 4);
		return 0;
	case X86_GDB_FIOFF:
		put_le(fx + FX_FIP, v, 4);
		return 0;
	case X86_GDB_FOSEG:
		put_le(fx + FX_FDP + 4, v, 4);
		return 0;
	case X86_GDB_FOOFF:
		put_le(fx + FX_FDP, v, 4);
		return 0;
	case X86_GDB_FOP:
		if (v > 0x7ff)
			return -EINVAL;
		put_le(fx + FX_FOP, v, 2);
		return 0;
	case X86_GDB_MXCSR:
		/* KVM_SET_XSAVE refuses reserved bits; catch them here so the
		 * rest of the FPU part is not lost at flush. */
		mxcsr_mask = (uint32_t)get_le(fx + FX_MXCSR_MASK, 4);
		if (!mxcsr_mask)
			mxcsr_mask = MXCSR_MASK_DEFAULT;
		if (v & ~(uint64_t)mxcsr_mask)
			return -EINVAL;
		put_le(fx + FX_MXCSR, v, 4);
		return 0;
	case X86_GDB_FS_BASE:
	case X86_GDB_GS_BASE:
		if (!canonical(s, v))
			return -EINVAL;
		if (regno == X86_GDB_FS_BASE)
			s->sregs.fs.base = v;
		else
			s->sregs.gs.base = v;
		return 0;
	case X86_GDB_CR0:
		s->sregs.cr0 = v;
		return 0;
	case X86_GDB_CR2:
		s->sregs.cr2 = v;
		return 0;
	case X86_GDB_CR3:
		s->sregs.cr3 = v;
		return 0;
	case X86_GDB_CR4:
		s->sregs.cr4 = v;
		return 0;
	case X86_GDB_CR8:
		if (v > 15)
			return -EINVAL;
		s->sregs.cr8 = v;
		return 0;
	default:
		s->sregs.efer = v;
		return 0;
	}
}

static bool is_st(unsigned regno)
{
	return regno >= X86_GDB_ST0 && regno < X86_GDB_ST0 + 8;
}

static bool is_xmm(unsigned regno)
{
	return regno >= X86_GDB_XMM0 && regno < X86_GDB_XMM0 + 16;
}

int x86_gdb_read_reg(const struct x86_cpu_state *s, unsigned regno,
		     uint8_t *buf)
{
	uint64_t parts = x86_gdb_reg_parts(regno);

	if (!parts)
		return -EINVAL;
	if ((s->valid & parts) != parts)
		return -ENODATA;
	if (is_st(regno))
		memcpy(buf, fx_ro(s) + FX_ST0 + 16 * (regno - X86_GDB_ST0), 10);
	else if (is_xmm(regno))
		memcpy(buf, fx_ro(s) + FX_XMM0 + 16 * (regno - X86_GDB_XMM0),
		       16);
	else
		put_le(buf, scalar_get(s, regno), x86_gdb_reg_size(regno));
	return 0;
}

int x86_gdb_write_reg(struct x86_cpu_state *s, unsigned regno,
		      const uint8_t *buf)
{
	uint64_t parts = x86_gdb_reg_parts(regno);
	unsigned size = x86_gdb_reg_size(regno);
	uint8_t old[X86_GDB_MAX_REG_SIZE];
	uint64_t xstate_bv;
	int ret;

	if (!parts)
		return -EINVAL;
	ret = x86_gdb_read_reg(s, regno, old);
	if (ret < 0)
		return ret;
	/* gdb and lldb write back whole register sets ('G', restoring after
	 * an expression); leave the unchanged registers' parts clean. */
	if (memcmp(old, buf, size) == 0)
		return 0;
	if (is_st(regno))
		memcpy(fx_rw(s) + FX_ST0 + 16 * (regno - X86_GDB_ST0), buf, 10);
	else if (is_xmm(regno))
		memcpy(fx_rw(s) + FX_XMM0 + 16 * (regno - X86_GDB_XMM0), buf,
		       16);
	else if ((ret = scalar_set(s, regno, get_le(buf, size))) < 0)
		return ret;
	if (parts == X86_STATE_FPU) {
		/*
		 * KVM_SET_XSAVE loads a component only if its XSTATE_BV bit
		 * is set; a clear bit means "init state" and would throw the
		 * write away. KVM_GET_XSAVE fills the area of an unused
		 * component with its init values, so setting the bit keeps
		 * everything else as the guest had it.
		 */
		xstate_bv = get_le(fx_ro(s) + XSAVE_XSTATE_BV, 8);
		xstate_bv |= (is_xmm(regno) || regno == X86_GDB_MXCSR)
				 ? XFEATURE_SSE
				 : XFEATURE_X87;
		put_le(fx_rw(s) + XSAVE_XSTATE_BV, xstate_bv, 8);
	}
	s->dirty |= parts;
	return 0;
}
