/* Unit tests for the x86_64 register layer: gdb's amd64 layout and
 * target.xml, every register class built in memory, cache bookkeeping, and
 * (when /dev/kvm is usable) one round trip through KVM. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86_64/regs.h"
#include "vmm/kvm.h"

/*
 * Layout facts spelled out here rather than taken from regs.c, so a wrong
 * table cannot hide behind a matching test: gdb's amd64 register names in
 * order, and the FXSAVE64/XSAVE offsets from the Intel SDM.
 */
static const char *const gdb_names[] = {
    "rax",   "rbx",	"rcx",	   "rdx",   "rsi",   "rdi",   "rbp",   "rsp",
    "r8",    "r9",	"r10",	   "r11",   "r12",   "r13",   "r14",   "r15",
    "rip",   "eflags",	"cs",	   "ss",    "ds",    "es",    "fs",    "gs",
    "st0",   "st1",	"st2",	   "st3",   "st4",   "st5",   "st6",   "st7",
    "fctrl", "fstat",	"ftag",	   "fiseg", "fioff", "foseg", "fooff", "fop",
    "xmm0",  "xmm1",	"xmm2",	   "xmm3",  "xmm4",  "xmm5",  "xmm6",  "xmm7",
    "xmm8",  "xmm9",	"xmm10",   "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",
    "mxcsr", "fs_base", "gs_base", "cr0",   "cr2",   "cr3",   "cr4",   "cr8",
    "efer",
};

#define NR_NAMES (sizeof(gdb_names) / sizeof(gdb_names[0]))

#define OFF_FCW 0
#define OFF_FSW 2
#define OFF_FTW 4
#define OFF_FOP 6
#define OFF_FIP 8
#define OFF_FDP 16
#define OFF_MXCSR 24
#define OFF_MXCSR_MASK 28
#define OFF_ST(i) (32 + 16 * (i))
#define OFF_XMM(i) (160 + 16 * (i))
#define OFF_XSTATE_BV 512

#define BV_X87 1ULL
#define BV_SSE 2ULL

/* ---- helpers ------------------------------------------------------------ */

static uint8_t *fx(struct x86_cpu_state *s)
{
	return (uint8_t *)s->xsave.region;
}

static void put(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* An 80-bit x87 value: 64-bit significand (explicit integer bit), then
 * sign and 15-bit exponent. */
static void put_f80(uint8_t *p, uint64_t mantissa, uint16_t sign_exp)
{
	put(p, mantissa, 8);
	put(p + 8, sign_exp, 2);
}

/* A stopped vCPU as KVM would report it after a 64-bit boot: every part
 * loaded, nothing dirty, the FPU in its reset configuration. */
static struct x86_cpu_state *new_state(void)
{
	struct x86_cpu_state *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->regs.rflags = 0x2;
	s->sregs.cs = (struct kvm_segment){.selector = 0x8,
					   .limit = 0xfffff,
					   .type = 0xb,
					   .present = 1,
					   .s = 1,
					   .l = 1,
					   .g = 1};
	s->sregs.ds = (struct kvm_segment){
	    .selector = 0x18, .type = 0x3, .present = 1, .s = 1, .db = 1};
	s->sregs.ss = s->sregs.es = s->sregs.fs = s->sregs.gs = s->sregs.ds;
	s->sregs.cr0 = 0x80000011;
	s->sregs.cr3 = 0x1000;
	s->sregs.cr4 = 0x20;
	s->sregs.efer = 0x500;
	put(fx(s) + OFF_FCW, 0x37f, 2);
	put(fx(s) + OFF_MXCSR, 0x1f80, 4);
	put(fx(s) + OFF_MXCSR_MASK, 0xffff, 4);
	s->valid = X86_STATE_ALL;
	return s;
}

static uint64_t read_val(const struct x86_cpu_state *s, unsigned regno)
{
	uint8_t buf[X86_GDB_MAX_REG_SIZE];

	assert_int_equal(x86_gdb_read_reg(s, regno, buf), 0);
	return get(buf,
		   x86_gdb_reg_size(regno) > 8 ? 8 : x86_gdb_reg_size(regno));
}

static int write_val(struct x86_cpu_state *s, unsigned regno, uint64_t v)
{
	uint8_t buf[8];

	assert_true(x86_gdb_reg_size(regno) <= 8);
	put(buf, v, x86_gdb_reg_size(regno));
	return x86_gdb_write_reg(s, regno, buf);
}

static uint64_t xstate_bv(struct x86_cpu_state *s)
{
	return get(fx(s) + OFF_XSTATE_BV, 8);
}

/* ---- layout ------------------------------------------------------------- */

static void test_numbering(void **state)
{
	(void)state;
	assert_int_equal(x86_gdb_nr_regs(), NR_NAMES);
	assert_int_equal(X86_GDB_NR_REGS, 65);
	assert_int_equal(X86_GDB_RBP, 6);
	assert_int_equal(X86_GDB_RSP, 7);
	assert_int_equal(X86_GDB_RIP, 16);
	assert_int_equal(X86_GDB_EFLAGS, 17);
	assert_int_equal(X86_GDB_CS, 18);
	assert_int_equal(X86_GDB_GS, 23);
	assert_int_equal(X86_GDB_ST0, 24);
	assert_int_equal(X86_GDB_FCTRL, 32);
	assert_int_equal(X86_GDB_FOP, 39);
	assert_int_equal(X86_GDB_XMM0, 40);
	assert_int_equal(X86_GDB_MXCSR, 56);
	assert_int_equal(X86_GDB_FS_BASE, 57);
	assert_int_equal(X86_GDB_GS_BASE, 58);
	assert_int_equal(X86_GDB_CR0, 59);
	assert_int_equal(X86_GDB_CR3, 61);
	assert_int_equal(X86_GDB_EFER, 64);
}

static unsigned want_size(unsigned regno)
{
	if (regno <= X86_GDB_RIP)
		return 8;
	if (regno <= X86_GDB_GS)
		return 4;
	if (regno < X86_GDB_FCTRL)
		return 10;
	if (regno < X86_GDB_XMM0)
		return 4;
	if (regno < X86_GDB_MXCSR)
		return 16;
	if (regno == X86_GDB_MXCSR)
		return 4;
	return 8;
}

static void test_sizes(void **state)
{
	(void)state;
	for (unsigned i = 0; i < NR_NAMES; i++) {
		if (x86_gdb_reg_size(i) != want_size(i))
			fail_msg("%s: size %u, want %u", gdb_names[i],
				 x86_gdb_reg_size(i), want_size(i));
	}
	assert_int_equal(x86_gdb_reg_size(X86_GDB_NR_REGS), 0);
	assert_int_equal(x86_gdb_reg_size(UINT_MAX), 0);
}

/*
 * gdb sizes the 'g' packet from target.xml and rejects a longer reply. For
 * amd64 core+sse it is 536 bytes (16*8 GPRs + 8 rip + 4 eflags + 6*4
 * selectors + 8*10 st + 8*4 x87 control + 16*16 xmm + 4 mxcsr); the
 * segments feature adds 2*8 and our system feature 6*8.
 */
static void test_g_packet_size(void **state)
{
	unsigned total = 0, core_sse = 0;

	(void)state;
	for (unsigned i = 0; i < x86_gdb_nr_regs(); i++) {
		total += x86_gdb_reg_size(i);
		if (i <= X86_GDB_MXCSR)
			core_sse += x86_gdb_reg_size(i);
	}
	assert_int_equal(core_sse, 536);
	assert_int_equal(total, 536 + 2 * 8 + 6 * 8);
	assert_int_equal(total, 600);
}

static void test_parts(void **state)
{
	(void)state;
	assert_int_equal(x86_gdb_reg_parts(X86_GDB_RAX), X86_STATE_REGS);
	assert_int_equal(x86_gdb_reg_parts(X86_GDB_RIP), X86_STATE_REGS);
	assert_int_equal(x86_gdb_reg_parts(X86_GDB_EFLAGS), X86_STATE_REGS);
	assert_int_equal(x86_gdb_reg_parts(X86_GDB_CS), X86_STATE_SREGS);
	assert_int_equal(x86_gdb_reg_parts(X86_GDB_GS), X86_STATE_SREGS);
	assert_int_equal(x86_gdb_reg_parts(X86_GDB_ST0 + 7), X86_STATE_FPU);
	assert_int_equal(x86_gdb_reg_parts(X86_GDB_FOP), X86_STATE_FPU);
	assert_int_equal(x86_gdb_reg_parts(X86_GDB_XMM0 + 15), X86_STATE_FPU);
	assert_int_equal(x86_gdb_reg_parts(X86_GDB_MXCSR), X86_STATE_FPU);
	assert_int_equal(x86_gdb_reg_parts(X86_GDB_FS_BASE), X86_STATE_SREGS);
	assert_int_equal(x86_gdb_reg_parts(X86_GDB_CR3), X86_STATE_SREGS);
	assert_int_equal(x86_gdb_reg_parts(X86_GDB_EFER), X86_STATE_SREGS);
	assert_int_equal(x86_gdb_reg_parts(X86_GDB_NR_REGS), 0);
}

/* ---- target.xml -----------------------------------------------------------
 */

#define MAX_ATTRS 12
#define MAX_VAL 64

struct xml_tag {
	char name[32];
	unsigned nr_attrs;
	char key[MAX_ATTRS][32];
	char val[MAX_ATTRS][MAX_VAL];
	bool closing, self_closing;
};

static const char *tag_attr(const struct xml_tag *t, const char *key)
{
	for (unsigned i = 0; i < t->nr_attrs; i++)
		if (strcmp(t->key[i], key) == 0)
			return t->val[i];
	return NULL;
}

static bool name_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    c == ':')
		return true;
	return !first && ((c >= '0' && c <= '9') || c == '-' || c == '.');
}

/* Parse one element tag starting at '<'; returns the byte after '>' or
 * NULL on a syntax error. Strict enough for what we generate. */
static const char *parse_tag(const char *p, struct xml_tag *t)
{
	size_t n = 0;

	memset(t, 0, sizeof(*t));
	p++;
	if (*p == '/') {
		t->closing = true;
		p++;
	}
	if (!name_char(*p, true))
		return NULL;
	while (name_char(*p, n == 0) && n < sizeof(t->name) - 1)
		t->name[n++] = *p++;
	for (;;) {
		size_t k = 0, v = 0;

		while (*p == ' ' || *p == '\n')
			p++;
		if (*p == '>')
			return p + 1;
		if (p[0] == '/' && p[1] == '>' && !t->closing) {
			t->self_closing = true;
			return p + 2;
		}
		if (t->closing || t->nr_attrs == MAX_ATTRS ||
		    !name_char(*p, true))
			return NULL;
		while (name_char(*p, k == 0) && k < 31)
			t->key[t->nr_attrs][k++] = *p++;
		if (tag_attr(t, t->key[t->nr_attrs]))
			return NULL; /* duplicate attribute */
		if (p[0] != '=' || p[1] != '"')
			return NULL;
		p += 2;
		while (*p && *p != '"' && *p != '<' && *p != '&' &&
		       v < MAX_VAL - 1)
			t->val[t->nr_attrs][v++] = *p++;
		if (*p != '"')
			return NULL;
		p++;
		t->nr_attrs++;
	}
}

struct xml_summary {
	unsigned nr_regs;
	char reg_name[80][16];
	unsigned reg_bits[80], reg_regnum[80], reg_feature[80];
	char reg_type[80][24];
	char reg_generic[80][8];
	char feature[8][40];
	unsigned nr_features;
	char type_id[32][24];
	unsigned nr_types;
	bool has_architecture, has_include;
};

/* Check that xml is well-formed (one root, balanced tags, quoted
 * attributes, no stray markup in text) and summarise it. */
static void check_xml(const char *xml, struct xml_summary *sum)
{
	char stack[8][32];
	unsigned depth = 0, roots = 0;
	const char *p = xml;

	memset(sum, 0, sizeof(*sum));
	assert_true(strncmp(p, "<?xml version=\"1.0\"?>", 21) == 0);
	while (*p) {
		struct xml_tag t;
		const char *start = p;

		/* Text cannot hide markup: every '<' starts a tag here. */
		if (*p != '<') {
			p++;
			continue;
		}
		if (p[1] == '?' || p[1] == '!') {
			const char *end = strchr(p, '>');

			assert_non_null(end);
			assert_int_equal(depth, 0);
			p = end + 1;
			continue;
		}
		p = parse_tag(p, &t);
		if (!p)
			fail_msg("XML syntax error near offset %zu",
				 (size_t)(start - xml));
		if (t.closing) {
			assert_true(depth > 0);
			depth--;
			assert_string_equal(stack[depth], t.name);
			if (strcmp(t.name, "architecture") == 0)
				assert_true(strncmp(start - 11, "i386:x86-64",
						    11) == 0);
			continue;
		}
		if (depth == 0)
			roots++;
		if (strcmp(t.name, "architecture") == 0)
			sum->has_architecture = true;
		if (strstr(t.name, "include"))
			sum->has_include = true;
		if (strcmp(t.name, "feature") == 0) {
			assert_true(sum->nr_features < 8);
			snprintf(sum->feature[sum->nr_features++], 40, "%s",
				 tag_attr(&t, "name"));
		}
		if ((strcmp(t.name, "flags") == 0 ||
		     strcmp(t.name, "vector") == 0 ||
		     strcmp(t.name, "union") == 0)) {
			assert_non_null(tag_attr(&t, "id"));
			assert_true(sum->nr_types < 32);
			snprintf(sum->type_id[sum->nr_types++], 24, "%s",
				 tag_attr(&t, "id"));
		}
		if (strcmp(t.name, "reg") == 0) {
			unsigned i = sum->nr_regs++;
			const char *g = tag_attr(&t, "generic");

			assert_true(i < 80);
			assert_true(t.self_closing);
			assert_true(depth == 2 &&
				    strcmp(stack[1], "feature") == 0);
			assert_non_null(tag_attr(&t, "name"));
			assert_non_null(tag_attr(&t, "bitsize"));
			assert_non_null(tag_attr(&t, "type"));
			assert_non_null(tag_attr(&t, "regnum"));
			snprintf(sum->reg_name[i], 16, "%s",
				 tag_attr(&t, "name"));
			snprintf(sum->reg_type[i], 24, "%s",
				 tag_attr(&t, "type"));
			snprintf(sum->reg_generic[i], 8, "%s", g ? g : "");
			sum->reg_bits[i] = (unsigned)strtoul(
			    tag_attr(&t, "bitsize"), NULL, 10);
			sum->reg_regnum[i] =
			    (unsigned)strtoul(tag_attr(&t, "regnum"), NULL, 10);
			sum->reg_feature[i] = sum->nr_features - 1;
		}
		if (!t.self_closing) {
			assert_true(depth < 8);
			snprintf(stack[depth++], 32, "%s", t.name);
		}
	}
	assert_int_equal(depth, 0);
	assert_int_equal(roots, 1);
	assert_null(strchr(xml, '&'));
}

static void test_xml_annexes(void **state)
{
	(void)state;
	assert_non_null(x86_gdb_features_xml("target.xml"));
	/* Built once: the same string every time. */
	assert_ptr_equal(x86_gdb_features_xml("target.xml"),
			 x86_gdb_features_xml("target.xml"));
	assert_null(x86_gdb_features_xml("64bit-core.xml"));
	assert_null(x86_gdb_features_xml("target.xml2"));
	assert_null(x86_gdb_features_xml(""));
	assert_null(x86_gdb_features_xml(NULL));
}

static bool predefined_type(const char *t)
{
	static const char *const builtin[] = {
	    "int",	"int8",	       "int16",	      "int32",
	    "int64",	"int128",      "uint8",	      "uint16",
	    "uint32",	"uint64",      "uint128",     "code_ptr",
	    "data_ptr", "ieee_single", "ieee_double", "i387_ext",
	};

	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		if (strcmp(t, builtin[i]) == 0)
			return true;
	return false;
}

/* Index of the feature a register must be in, in document order. */
static unsigned feature_of(unsigned regno)
{
	if (regno < X86_GDB_XMM0)
		return 0; /* core */
	if (regno <= X86_GDB_MXCSR)
		return 1; /* sse */
	if (regno <= X86_GDB_GS_BASE)
		return 2; /* segments */
	return 3;	  /* system */
}

static void test_xml_registers(void **state)
{
	const char *xml = x86_gdb_features_xml("target.xml");
	struct xml_summary *sum = calloc(1, sizeof(*sum));

	(void)state;
	assert_non_null(xml);
	assert_non_null(sum);
	check_xml(xml, sum);
	assert_true(sum->has_architecture);
	assert_false(sum->has_include);
	assert_non_null(
	    strstr(xml, "<architecture>i386:x86-64</architecture>"));

	assert_int_equal(sum->nr_features, 4);
	assert_string_equal(sum->feature[0], "org.gnu.gdb.i386.core");
	assert_string_equal(sum->feature[1], "org.gnu.gdb.i386.sse");
	assert_string_equal(sum->feature[2], "org.gnu.gdb.i386.segments");
	assert_string_equal(sum->feature[3], "org.kvmdbg.x86.system");

	assert_int_equal(sum->nr_regs, x86_gdb_nr_regs());
	for (unsigned i = 0; i < sum->nr_regs; i++) {
		unsigned want_feature = feature_of(i);
		bool defined = predefined_type(sum->reg_type[i]);

		assert_string_equal(sum->reg_name[i], gdb_names[i]);
		assert_int_equal(sum->reg_regnum[i], i);
		assert_int_equal(sum->reg_bits[i], 8 * x86_gdb_reg_size(i));
		if (sum->reg_feature[i] != want_feature)
			fail_msg("%s in feature %u, want %u", gdb_names[i],
				 sum->reg_feature[i], want_feature);
		for (unsigned t = 0; t < sum->nr_types; t++)
			defined |=
			    strcmp(sum->type_id[t], sum->reg_type[i]) == 0;
		if (!defined)
			fail_msg("%s has undefined type %s", gdb_names[i],
				 sum->reg_type[i]);
	}
	/* gdb's own types for the registers it knows. */
	assert_string_equal(sum->reg_type[X86_GDB_RIP], "code_ptr");
	assert_string_equal(sum->reg_type[X86_GDB_RSP], "data_ptr");
	assert_string_equal(sum->reg_type[X86_GDB_EFLAGS], "i386_eflags");
	assert_string_equal(sum->reg_type[X86_GDB_ST0], "i387_ext");
	assert_string_equal(sum->reg_type[X86_GDB_XMM0 + 15], "vec128");
	assert_string_equal(sum->reg_type[X86_GDB_MXCSR], "i386_mxcsr");
	/* What lldb needs to find pc, sp, fp and flags. */
	assert_string_equal(sum->reg_generic[X86_GDB_RIP], "pc");
	assert_string_equal(sum->reg_generic[X86_GDB_RSP], "sp");
	assert_string_equal(sum->reg_generic[X86_GDB_RBP], "fp");
	assert_string_equal(sum->reg_generic[X86_GDB_EFLAGS], "flags");
	assert_string_equal(sum->reg_generic[X86_GDB_RDI], "arg1");
	assert_non_null(strstr(xml, "name=\"rip\" bitsize=\"64\""));
	assert_non_null(strstr(xml, "dwarf_regnum=\"16\""));
	free(sum);
}

/* Optional second opinion from libxml2, which lldb uses to parse it. */
static void test_xml_xmllint(void **state)
{
	char path[] = "/tmp/kvmdbg-target-XXXXXX";
	const char *xml = x86_gdb_features_xml("target.xml");
	char cmd[128];
	FILE *f;
	int fd, rc;

	(void)state;
	if (access("/usr/bin/xmllint", X_OK) != 0) {
		print_message("xmllint not installed\n");
		skip();
	}
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fputs(xml, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), "/usr/bin/xmllint --noout %s", path);
	rc = system(cmd);
	unlink(path);
	assert_int_equal(rc, 0);
}

/* ---- register classes ---------------------------------------------------- */

static void test_gprs(void **state)
{
	struct x86_cpu_state *s = new_state();
	/* gdb's order, which is not struct kvm_regs order. */
	const __u64 *kvm_slot[16] = {
	    &s->regs.rax, &s->regs.rbx, &s->regs.rcx, &s->regs.rdx,
	    &s->regs.rsi, &s->regs.rdi, &s->regs.rbp, &s->regs.rsp,
	    &s->regs.r8,  &s->regs.r9,	&s->regs.r10, &s->regs.r11,
	    &s->regs.r12, &s->regs.r13, &s->regs.r14, &s->regs.r15,
	};

	(void)state;
	for (unsigned i = 0; i < 16; i++) {
		uint64_t v = 0x0102030405060700ULL + i;

		assert_int_equal(write_val(s, i, v), 0);
		if (*kvm_slot[i] != v)
			fail_msg("%s: kvm_regs field %#llx, want %#llx",
				 gdb_names[i], (unsigned long long)*kvm_slot[i],
				 (unsigned long long)v);
		assert_int_equal(read_val(s, i), v);
	}
	/* Encoding is little-endian, 8 bytes. */
	{
		uint8_t buf[8],
		    want[8] = {0x07, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01};

		assert_int_equal(x86_gdb_read_reg(s, X86_GDB_RSP, buf), 0);
		assert_memory_equal(buf, want, 8);
	}
	assert_int_equal(s->dirty, X86_STATE_REGS);
	free(s);
}

static void test_rip_eflags(void **state)
{
	struct x86_cpu_state *s = new_state();
	uint8_t buf[4];

	(void)state;
	assert_int_equal(write_val(s, X86_GDB_RIP, 0xffffffff81000000ULL), 0);
	assert_int_equal(s->regs.rip, 0xffffffff81000000ULL);
	assert_int_equal(read_val(s, X86_GDB_RIP), 0xffffffff81000000ULL);

	s->regs.rflags = 0x246;
	assert_int_equal(x86_gdb_read_reg(s, X86_GDB_EFLAGS, buf), 0);
	assert_int_equal(get(buf, 4), 0x246);
	assert_int_equal(write_val(s, X86_GDB_EFLAGS, 0x10346), 0);
	assert_int_equal(s->regs.rflags, 0x10346);
	/* Bit 1 always reads as 1, so it is set for the writer. */
	assert_int_equal(write_val(s, X86_GDB_EFLAGS, 0x200), 0);
	assert_int_equal(s->regs.rflags, 0x202);
	/* Reserved bits 3, 5, 15 and 22-31 cannot be set. */
	assert_int_equal(write_val(s, X86_GDB_EFLAGS, 0x20a), -EINVAL);
	assert_int_equal(write_val(s, X86_GDB_EFLAGS, 0x400202), -EINVAL);
	assert_int_equal(write_val(s, X86_GDB_EFLAGS, 0x80000202), -EINVAL);
	assert_int_equal(s->regs.rflags, 0x202);
	free(s);
}

static void test_segment_selector(void **state)
{
	struct x86_cpu_state *s = new_state();
	struct kvm_segment before;
	uint8_t buf[4], want[4] = {0x08, 0, 0, 0};

	(void)state;
	assert_int_equal(x86_gdb_read_reg(s, X86_GDB_CS, buf), 0);
	assert_memory_equal(buf, want, 4);
	assert_int_equal(read_val(s, X86_GDB_SS), 0x18);

	s->sregs.fs.base = 0x1234000;
	before = s->sregs.fs;
	assert_int_equal(write_val(s, X86_GDB_FS, 0x2b), 0);
	assert_int_equal(s->sregs.fs.selector, 0x2b);
	/* Only the selector: the descriptor cache is not reloaded. */
	before.selector = 0x2b;
	assert_memory_equal(&s->sregs.fs, &before, sizeof(before));
	assert_int_equal(s->sregs.gs.selector, 0x18);
	assert_int_equal(s->dirty, X86_STATE_SREGS);

	assert_int_equal(write_val(s, X86_GDB_GS, 0x10000), -EINVAL);
	assert_int_equal(s->sregs.gs.selector, 0x18);
	free(s);
}

static void test_st_registers(void **state)
{
	struct x86_cpu_state *s = new_state();
	uint8_t buf[16], val[10] = {1, 2, 3, 4, 5, 6, 7, 0x80, 0xff, 0x3f};

	(void)state;
	memset(fx(s) + OFF_ST(0), 0xee, 8 * 16);
	put_f80(fx(s) + OFF_ST(3), 0xc000000000000000ULL, 0x4000); /* 3.0 */
	assert_int_equal(x86_gdb_read_reg(s, X86_GDB_ST0 + 3, buf), 0);
	assert_int_equal(get(buf, 8), 0xc000000000000000ULL);
	assert_int_equal(get(buf + 8, 2), 0x4000);

	assert_int_equal(x86_gdb_write_reg(s, X86_GDB_ST0 + 7, val), 0);
	assert_memory_equal(fx(s) + OFF_ST(7), val, 10);
	/* The six padding bytes of the 16-byte slot stay as they were. */
	for (unsigned i = 10; i < 16; i++)
		assert_int_equal(fx(s)[OFF_ST(7) + i], 0xee);
	assert_int_equal(fx(s)[OFF_ST(6) + 15], 0xee);
	assert_int_equal(x86_gdb_read_reg(s, X86_GDB_ST0 + 7, buf), 0);
	assert_memory_equal(buf, val, 10);
	assert_int_equal(xstate_bv(s), BV_X87);
	assert_int_equal(s->dirty, X86_STATE_FPU);
	free(s);
}

static void test_x87_control(void **state)
{
	struct x86_cpu_state *s = new_state();

	(void)state;
	assert_int_equal(read_val(s, X86_GDB_FCTRL), 0x37f);
	assert_int_equal(write_val(s, X86_GDB_FCTRL, 0x27f), 0);
	assert_int_equal(get(fx(s) + OFF_FCW, 2), 0x27f);
	assert_int_equal(write_val(s, X86_GDB_FCTRL, 0x10000), -EINVAL);

	put(fx(s) + OFF_FSW, 0x3800, 2);
	assert_int_equal(read_val(s, X86_GDB_FSTAT), 0x3800);
	assert_int_equal(write_val(s, X86_GDB_FSTAT, 0x2000), 0);
	assert_int_equal(get(fx(s) + OFF_FSW, 2), 0x2000);

	/* The 64-bit FIP/FDP split as gdb splits them for amd64. */
	put(fx(s) + OFF_FIP, 0x123456789abcdef0ULL, 8);
	put(fx(s) + OFF_FDP, 0xfedcba9876543210ULL, 8);
	assert_int_equal(read_val(s, X86_GDB_FIOFF), 0x9abcdef0);
	assert_int_equal(read_val(s, X86_GDB_FISEG), 0x12345678);
	assert_int_equal(read_val(s, X86_GDB_FOOFF), 0x76543210);
	assert_int_equal(read_val(s, X86_GDB_FOSEG), 0xfedcba98);
	assert_int_equal(write_val(s, X86_GDB_FIOFF, 0x11223344), 0);
	assert_int_equal(write_val(s, X86_GDB_FOSEG, 0x55667788), 0);
	assert_int_equal(get(fx(s) + OFF_FIP, 8), 0x1234567811223344ULL);
	assert_int_equal(get(fx(s) + OFF_FDP, 8), 0x5566778876543210ULL);

	/* FOP is 11 bits. */
	put(fx(s) + OFF_FOP, 0xf9d9, 2);
	assert_int_equal(read_val(s, X86_GDB_FOP), 0x1d9);
	assert_int_equal(write_val(s, X86_GDB_FOP, 0x7ff), 0);
	assert_int_equal(get(fx(s) + OFF_FOP, 2), 0x7ff);
	assert_int_equal(write_val(s, X86_GDB_FOP, 0x800), -EINVAL);
	assert_int_equal(xstate_bv(s), BV_X87);
	free(s);
}

static void test_ftag_all_empty(void **state)
{
	struct x86_cpu_state *s = new_state();

	(void)state;
	fx(s)[OFF_FTW] = 0;
	assert_int_equal(read_val(s, X86_GDB_FTAG), 0xffff);
	free(s);
}

/* After one fld1 on an empty stack: TOP = 7, ST(0) = physical R7 = 1.0. */
static void test_ftag_one_valid(void **state)
{
	struct x86_cpu_state *s = new_state();

	(void)state;
	put(fx(s) + OFF_FSW, 7 << 11, 2);
	fx(s)[OFF_FTW] = 0x80;
	put_f80(fx(s) + OFF_ST(0), 0x8000000000000000ULL, 0x3fff);
	assert_int_equal(read_val(s, X86_GDB_FTAG), 0x3fff);
	free(s);
}

static void test_ftag_zero(void **state)
{
	struct x86_cpu_state *s = new_state();

	(void)state;
	/* Then fldz: TOP = 6, ST(0) = R6 = +0.0, ST(1) = R7 = 1.0. */
	put(fx(s) + OFF_FSW, 6 << 11, 2);
	fx(s)[OFF_FTW] = 0xc0;
	put_f80(fx(s) + OFF_ST(0), 0, 0);
	put_f80(fx(s) + OFF_ST(1), 0x8000000000000000ULL, 0x3fff);
	assert_int_equal(read_val(s, X86_GDB_FTAG), 0x1fff);
	/* -0.0 is zero too. */
	put_f80(fx(s) + OFF_ST(0), 0, 0x8000);
	assert_int_equal(read_val(s, X86_GDB_FTAG), 0x1fff);
	free(s);
}

static void test_ftag_special(void **state)
{
	struct x86_cpu_state *s = new_state();

	(void)state;
	/* TOP = 0: ST(i) = R(i). R0 infinity, R1 NaN, R2 denormal, R3
	 * unnormal (integer bit clear), R4 -1.0, R5-R7 empty. */
	put(fx(s) + OFF_FSW, 0, 2);
	fx(s)[OFF_FTW] = 0x1f;
	put_f80(fx(s) + OFF_ST(0), 0x8000000000000000ULL, 0x7fff);
	put_f80(fx(s) + OFF_ST(1), 0xc000000000000000ULL, 0xffff);
	put_f80(fx(s) + OFF_ST(2), 0x0000000000000001ULL, 0x0000);
	put_f80(fx(s) + OFF_ST(3), 0x4000000000000000ULL, 0x3fff);
	put_f80(fx(s) + OFF_ST(4), 0x8000000000000000ULL, 0xbfff);
	/* R7..R0: 11 11 11 00 10 10 10 10 */
	assert_int_equal(read_val(s, X86_GDB_FTAG), 0xfcaa);
	free(s);
}

/* Non-zero TOP: physical register i is ST((i - TOP) mod 8). */
static void test_ftag_rotation(void **state)
{
	struct x86_cpu_state *s = new_state();

	(void)state;
	put(fx(s) + OFF_FSW, 5 << 11, 2);
	fx(s)[OFF_FTW] = 0x01; /* only R0 in use: ST(3) */
	put_f80(fx(s) + OFF_ST(3), 0, 0);
	assert_int_equal(read_val(s, X86_GDB_FTAG), 0xfffd);
	put_f80(fx(s) + OFF_ST(3), 0x8000000000000000ULL, 0x3fff);
	assert_int_equal(read_val(s, X86_GDB_FTAG), 0xfffc);
	free(s);
}

static void test_ftag_write(void **state)
{
	struct x86_cpu_state *s = new_state();

	(void)state;
	fx(s)[OFF_FTW] = 0;
	/* R0 zero, R7 valid, the rest empty. */
	assert_int_equal(write_val(s, X86_GDB_FTAG, 0x3ffd), 0);
	assert_int_equal(fx(s)[OFF_FTW], 0x81);
	assert_int_equal(xstate_bv(s), BV_X87);
	assert_int_equal(s->dirty, X86_STATE_FPU);
	assert_int_equal(write_val(s, X86_GDB_FTAG, 0x0000), 0);
	assert_int_equal(fx(s)[OFF_FTW], 0xff);
	assert_int_equal(write_val(s, X86_GDB_FTAG, 0xffff), 0);
	assert_int_equal(fx(s)[OFF_FTW], 0x00);
	assert_int_equal(write_val(s, X86_GDB_FTAG, 0x10000), -EINVAL);
	free(s);
}

static void test_mxcsr(void **state)
{
	struct x86_cpu_state *s = new_state();

	(void)state;
	assert_int_equal(read_val(s, X86_GDB_MXCSR), 0x1f80);
	assert_int_equal(write_val(s, X86_GDB_MXCSR, 0x1fc0), 0); /* DAZ */
	assert_int_equal(get(fx(s) + OFF_MXCSR, 4), 0x1fc0);
	assert_int_equal(xstate_bv(s), BV_SSE);
	assert_int_equal(s->dirty, X86_STATE_FPU);
	assert_int_equal(write_val(s, X86_GDB_MXCSR, 0x11f80), -EINVAL);
	/* A zero MXCSR_MASK means the SDM default 0xffbf: no DAZ. */
	put(fx(s) + OFF_MXCSR_MASK, 0, 4);
	assert_int_equal(write_val(s, X86_GDB_MXCSR, 0x1f80), 0);
	assert_int_equal(write_val(s, X86_GDB_MXCSR, 0x1fc0), -EINVAL);
	assert_int_equal(get(fx(s) + OFF_MXCSR, 4), 0x1f80);
	free(s);
}

static void test_xmm(void **state)
{
	struct x86_cpu_state *s = new_state();
	uint8_t val[16], buf[16];

	(void)state;
	for (unsigned i = 0; i < 16; i++)
		val[i] = (uint8_t)(0xa0 + i);
	memset(fx(s) + OFF_XMM(0), 0x55, 16 * 16);
	assert_int_equal(x86_gdb_write_reg(s, X86_GDB_XMM0 + 15, val), 0);
	assert_memory_equal(fx(s) + OFF_XMM(15), val, 16);
	assert_int_equal(fx(s)[OFF_XMM(15) - 1], 0x55);
	assert_int_equal(fx(s)[OFF_XMM(15) + 16], 0); /* reserved area */
	assert_int_equal(x86_gdb_read_reg(s, X86_GDB_XMM0 + 15, buf), 0);
	assert_memory_equal(buf, val, 16);
	assert_int_equal(x86_gdb_read_reg(s, X86_GDB_XMM0 + 14, buf), 0);
	assert_int_equal(buf[0], 0x55);
	assert_int_equal(xstate_bv(s), BV_SSE);
	assert_int_equal(s->dirty, X86_STATE_FPU);
	free(s);
}

static void test_segment_bases(void **state)
{
	struct x86_cpu_state *s = new_state();

	(void)state;
	assert_int_equal(write_val(s, X86_GDB_FS_BASE, 0xffff888000001000ULL),
			 0);
	assert_int_equal(s->sregs.fs.base, 0xffff888000001000ULL);
	assert_int_equal(read_val(s, X86_GDB_FS_BASE), 0xffff888000001000ULL);
	assert_int_equal(write_val(s, X86_GDB_GS_BASE, 0x7fffffffe000ULL), 0);
	assert_int_equal(s->sregs.gs.base, 0x7fffffffe000ULL);
	assert_int_equal(s->sregs.gs.selector, 0x18);
	/* Non-canonical with 4-level paging, canonical with LA57. */
	assert_int_equal(write_val(s, X86_GDB_GS_BASE, 0x800000000000ULL),
			 -EINVAL);
	assert_int_equal(write_val(s, X86_GDB_FS_BASE, 0xff00800000000000ULL),
			 -EINVAL);
	s->sregs.cr4 |= 1ULL << 12;
	assert_int_equal(write_val(s, X86_GDB_GS_BASE, 0x800000000000ULL), 0);
	assert_int_equal(write_val(s, X86_GDB_GS_BASE, 0x0100000000000000ULL),
			 -EINVAL);
	assert_int_equal(s->dirty, X86_STATE_SREGS);
	free(s);
}

static void test_control_registers(void **state)
{
	struct x86_cpu_state *s = new_state();

	(void)state;
	assert_int_equal(read_val(s, X86_GDB_CR0), 0x80000011);
	assert_int_equal(read_val(s, X86_GDB_CR3), 0x1000);
	assert_int_equal(read_val(s, X86_GDB_EFER), 0x500);
	s->sregs.cr2 = 0xdead000;
	s->sregs.cr8 = 3;
	assert_int_equal(read_val(s, X86_GDB_CR2), 0xdead000);
	assert_int_equal(read_val(s, X86_GDB_CR8), 3);

	assert_int_equal(write_val(s, X86_GDB_CR3, 0x5000), 0);
	assert_int_equal(s->sregs.cr3, 0x5000);
	assert_int_equal(write_val(s, X86_GDB_CR0, 0x80010033), 0);
	assert_int_equal(s->sregs.cr0, 0x80010033);
	assert_int_equal(write_val(s, X86_GDB_CR4, 0x6a0), 0);
	assert_int_equal(s->sregs.cr4, 0x6a0);
	assert_int_equal(write_val(s, X86_GDB_CR2, 0x1234), 0);
	assert_int_equal(s->sregs.cr2, 0x1234);
	assert_int_equal(write_val(s, X86_GDB_EFER, 0xd01), 0);
	assert_int_equal(s->sregs.efer, 0xd01);
	assert_int_equal(write_val(s, X86_GDB_CR8, 15), 0);
	assert_int_equal(s->sregs.cr8, 15);
	assert_int_equal(write_val(s, X86_GDB_CR8, 16), -EINVAL);
	assert_int_equal(s->dirty, X86_STATE_SREGS);
	free(s);
}

/* ---- bookkeeping --------------------------------------------------------- */

static void test_bad_regno(void **state)
{
	struct x86_cpu_state *s = new_state();
	uint8_t buf[16] = {0};
	const unsigned bad[] = {X86_GDB_NR_REGS, 100, UINT_MAX};

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(x86_gdb_read_reg(s, bad[i], buf), -EINVAL);
		assert_int_equal(x86_gdb_write_reg(s, bad[i], buf), -EINVAL);
		assert_int_equal(x86_gdb_reg_parts(bad[i]), 0);
	}
	assert_int_equal(s->dirty, 0);
	free(s);
}

static void test_unloaded_parts(void **state)
{
	struct x86_cpu_state *s = new_state();
	uint8_t buf[16] = {0};

	(void)state;
	s->valid = X86_STATE_REGS;
	assert_int_equal(x86_gdb_read_reg(s, X86_GDB_RIP, buf), 0);
	assert_int_equal(x86_gdb_read_reg(s, X86_GDB_CR3, buf), -ENODATA);
	assert_int_equal(x86_gdb_read_reg(s, X86_GDB_XMM0, buf), -ENODATA);
	/* Writing into an unloaded part would flush garbage later. */
	assert_int_equal(x86_gdb_write_reg(s, X86_GDB_CS, buf), -ENODATA);
	assert_int_equal(x86_gdb_write_reg(s, X86_GDB_MXCSR, buf), -ENODATA);
	assert_int_equal(s->dirty, 0);
	free(s);
}

static void test_dirty_tracking(void **state)
{
	struct x86_cpu_state *s = new_state();
	uint8_t buf[16];

	(void)state;
	/* Writing back what is there (a 'G' packet) dirties nothing. */
	for (unsigned i = 0; i < x86_gdb_nr_regs(); i++) {
		assert_int_equal(x86_gdb_read_reg(s, i, buf), 0);
		assert_int_equal(x86_gdb_write_reg(s, i, buf), 0);
	}
	assert_int_equal(s->dirty, 0);
	assert_int_equal(xstate_bv(s), 0);

	assert_int_equal(write_val(s, X86_GDB_RAX, 1), 0);
	assert_int_equal(s->dirty, X86_STATE_REGS);
	assert_int_equal(write_val(s, X86_GDB_CR3, 0x2000), 0);
	assert_int_equal(s->dirty, X86_STATE_REGS | X86_STATE_SREGS);
	/* A refused value leaves the part clean. */
	assert_int_equal(write_val(s, X86_GDB_FOP, 0x800), -EINVAL);
	assert_int_equal(s->dirty, X86_STATE_REGS | X86_STATE_SREGS);
	assert_int_equal(write_val(s, X86_GDB_FCTRL, 0x37e), 0);
	assert_int_equal(s->dirty, X86_STATE_ALL);
	assert_int_equal(s->valid, X86_STATE_ALL);

	x86_state_invalidate(s);
	assert_int_equal(s->valid, 0);
	assert_int_equal(s->dirty, 0);
	free(s);
}

/* fd -1 makes any ioctl fail with EBADF, so success proves none was made. */
static void test_load_is_lazy(void **state)
{
	struct x86_cpu_state *s = new_state();

	(void)state;
	assert_int_equal(x86_state_load(-1, s, X86_STATE_ALL), 0);
	assert_int_equal(x86_state_load(-1, s, 0), 0);
	s->valid = X86_STATE_REGS;
	assert_int_equal(x86_state_load(-1, s, x86_gdb_reg_parts(X86_GDB_RIP)),
			 0);
	assert_int_equal(x86_state_load(-1, s, X86_STATE_FPU), -EBADF);
	assert_int_equal(s->valid, X86_STATE_REGS);
	assert_int_equal(x86_state_load(-1, s, 1ULL << 40), -EINVAL);
	free(s);
}

static void test_flush_failure_drops_part(void **state)
{
	struct x86_cpu_state *s = new_state();

	(void)state;
	assert_int_equal(x86_state_flush(-1, s), 0); /* nothing dirty */
	assert_int_equal(write_val(s, X86_GDB_RIP, 0x1000), 0);
	assert_int_equal(write_val(s, X86_GDB_CR0, 0x11), 0);
	assert_int_equal(x86_state_flush(-1, s), -EBADF);
	assert_int_equal(s->dirty, 0);
	assert_int_equal(s->valid, X86_STATE_FPU);
	free(s);
}

/* ---- through KVM --------------------------------------------------------- */

/*
 * One round trip through a real vCPU that never runs: what KVM_GET_XSAVE
 * reports for a reset FPU (MXCSR 0x1f80, which KVM_GET_FPU would report as
 * 0), writes that survive flush/invalidate/load, and a CR0 that KVM refuses
 * (PG without PE) surfacing at flush with the old value back in the cache.
 */
static void test_kvm_round_trip(void **state)
{
	struct kvm_sys sys;
	struct x86_cpu_state *s;
	uint8_t xmm[16], buf[16];
	char err[256];
	int vm, vcpu;

	(void)state;
	if (kvm_sys_open(&sys, err, sizeof(err)) < 0) {
		print_message("no KVM: %s\n", err);
		skip();
	}
	vm = (int)kvm_ioctl_val(sys.fd, KVM_CREATE_VM, 0);
	assert_true(vm >= 0);
	vcpu = (int)kvm_ioctl_val(vm, KVM_CREATE_VCPU, 0);
	assert_true(vcpu >= 0);
	s = calloc(1, sizeof(*s));
	assert_non_null(s);

	assert_int_equal(x86_state_load(vcpu, s, X86_STATE_REGS), 0);
	assert_int_equal(s->valid, X86_STATE_REGS);
	assert_int_equal(x86_state_load(vcpu, s, X86_STATE_ALL), 0);
	assert_int_equal(read_val(s, X86_GDB_RIP), 0xfff0); /* reset */
	assert_int_equal(read_val(s, X86_GDB_FCTRL), 0x37f);
	assert_int_equal(read_val(s, X86_GDB_MXCSR), 0x1f80);
	assert_int_equal(read_val(s, X86_GDB_FTAG), 0xffff);

	for (unsigned i = 0; i < 16; i++)
		xmm[i] = (uint8_t)(0x10 + i);
	assert_int_equal(write_val(s, X86_GDB_RAX, 0x1122334455667788ULL), 0);
	assert_int_equal(x86_gdb_write_reg(s, X86_GDB_XMM0 + 3, xmm), 0);
	assert_int_equal(write_val(s, X86_GDB_MXCSR, 0x1f00), 0);
	assert_int_equal(write_val(s, X86_GDB_CR8, 5), 0);
	assert_int_equal(x86_state_flush(vcpu, s), 0);
	x86_state_invalidate(s);
	memset(s, 0, sizeof(*s));
	assert_int_equal(x86_state_load(vcpu, s, X86_STATE_ALL), 0);
	assert_int_equal(read_val(s, X86_GDB_RAX), 0x1122334455667788ULL);
	assert_int_equal(x86_gdb_read_reg(s, X86_GDB_XMM0 + 3, buf), 0);
	assert_memory_equal(buf, xmm, 16);
	assert_int_equal(read_val(s, X86_GDB_MXCSR), 0x1f00);
	assert_int_equal(read_val(s, X86_GDB_CR8), 5);

	assert_int_equal(write_val(s, X86_GDB_CR0, 0x80000000), 0);
	assert_int_equal(write_val(s, X86_GDB_RBX, 42), 0);
	assert_int_equal(x86_state_flush(vcpu, s), -EINVAL);
	assert_int_equal(s->dirty, 0);
	assert_int_equal(s->valid, X86_STATE_REGS | X86_STATE_FPU);
	assert_int_equal(x86_state_load(vcpu, s, X86_STATE_ALL), 0);
	assert_int_equal(read_val(s, X86_GDB_CR0) & 0x80000001, 0);
	assert_int_equal(read_val(s, X86_GDB_RBX), 42);

	free(s);
	close(vcpu);
	close(vm);
	kvm_sys_close(&sys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_numbering),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_g_packet_size),
	    cmocka_unit_test(test_parts),
	    cmocka_unit_test(test_xml_annexes),
	    cmocka_unit_test(test_xml_registers),
	    cmocka_unit_test(test_xml_xmllint),
	    cmocka_unit_test(test_gprs),
	    cmocka_unit_test(test_rip_eflags),
	    cmocka_unit_test(test_segment_selector),
	    cmocka_unit_test(test_st_registers),
	    cmocka_unit_test(test_x87_control),
	    cmocka_unit_test(test_ftag_all_empty),
	    cmocka_unit_test(test_ftag_one_valid),
	    cmocka_unit_test(test_ftag_zero),
	    cmocka_unit_test(test_ftag_special),
	    cmocka_unit_test(test_ftag_rotation),
	    cmocka_unit_test(test_ftag_write),
	    cmocka_unit_test(test_mxcsr),
	    cmocka_unit_test(test_xmm),
	    cmocka_unit_test(test_segment_bases),
	    cmocka_unit_test(test_control_registers),
	    cmocka_unit_test(test_bad_regno),
	    cmocka_unit_test(test_unloaded_parts),
	    cmocka_unit_test(test_dirty_tracking),
	    cmocka_unit_test(test_load_is_lazy),
	    cmocka_unit_test(test_flush_failure_drops_part),
	    cmocka_unit_test(test_kvm_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
