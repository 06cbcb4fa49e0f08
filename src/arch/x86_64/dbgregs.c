/* x86 debug-register encodings for KVM_SET_GUEST_DEBUG, and decoders for
 * DR6/DR7 so tests and logs can say what a value means. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86_64/dbgregs.h"

/* DR7 R/Wn field per slot type (SDM 17.2.4). 10 means I/O, needs CR4.DE,
 * and is never used. */
static const uint8_t rw_code[] = {
    [X86_HW_EXEC] = 0x0,
    [X86_HW_WRITE] = 0x1,
    [X86_HW_ACCESS] = 0x3,
};
_Static_assert(sizeof(rw_code) == 3, "one R/W code per x86_hw_type");

static const char *const type_names[] = {
    [X86_HW_EXEC] = "exec",
    [X86_HW_WRITE] = "write",
    [X86_HW_ACCESS] = "access",
};
_Static_assert(sizeof(type_names) / sizeof(type_names[0]) == 3,
	       "one name per x86_hw_type");

/* DR7 LENn field indexed by log2(length): the 8-byte code (10) sits
 * between the 2- and 4-byte ones, a historical accident of the encoding. */
static const uint8_t len_code[] = {
    [0] = 0x0, /* 1 byte */
    [1] = 0x1, /* 2 bytes */
    [2] = 0x3, /* 4 bytes */
    [3] = 0x2, /* 8 bytes */
};
_Static_assert(sizeof(len_code) == 4, "lengths 1, 2, 4 and 8");

/* The inverse of len_code: field value to length in bytes. */
static const uint8_t code_len[] = {
    [0x0] = 1,
    [0x1] = 2,
    [0x2] = 8,
    [0x3] = 4,
};
_Static_assert(sizeof(code_len) == 4, "four LEN codes");

static int len_log2(unsigned len)
{
	switch (len) {
	case 1:
		return 0;
	case 2:
		return 1;
	case 4:
		return 2;
	case 8:
		return 3;
	default:
		return -1;
	}
}

const char *x86_hw_type_name(enum x86_hw_type type)
{
	if ((unsigned)type >= sizeof(type_names) / sizeof(type_names[0]))
		return "?";
	return type_names[type];
}

bool x86_hw_fits(enum x86_hw_type type, uint64_t addr, unsigned len)
{
	if ((unsigned)type >= sizeof(rw_code))
		return false;
	if (len_log2(len) < 0 || (addr & (len - 1)) != 0)
		return false;
	/* An instruction breakpoint matches the first byte of an instruction
	 * only; the SDM requires LEN 00 for it. */
	return type != X86_HW_EXEC || len == 1;
}

int x86_dbg_encode(const struct x86_hw_slot slots[X86_NR_HW_SLOTS],
		   const struct x86_dbg_flags *f, struct kvm_guest_debug *out)
{
	uint64_t dr7 = 0;
	uint32_t control = 0;

	memset(out, 0, sizeof(*out));
	for (unsigned n = 0; n < X86_NR_HW_SLOTS; n++) {
		const struct x86_hw_slot *s = &slots[n];

		if (!s->enabled)
			continue;
		if (!x86_hw_fits(s->type, s->addr, s->len)) {
			memset(out, 0, sizeof(*out));
			return -EINVAL;
		}
		out->arch.debugreg[n] = s->addr;
		dr7 |= X86_DR7_G(n);
		dr7 |= (uint64_t)rw_code[s->type] << X86_DR7_RW_SHIFT(n);
		dr7 |= (uint64_t)len_code[len_log2(s->len)]
		       << X86_DR7_LEN_SHIFT(n);
	}
	if (dr7) {
		/* GE asks for exact data breakpoints; P6 and later ignore it
		 * but the SDM still recommends it. */
		out->arch.debugreg[7] = dr7 | X86_DR7_GE | X86_DR7_FIXED1;
		control |= KVM_GUESTDBG_USE_HW_BP;
	}
	if (f->stepping) {
		control |= KVM_GUESTDBG_SINGLESTEP;
		/* Without BLOCKIRQ a pending interrupt is delivered before the
		 * stepped instruction, and the step stops in its handler. */
		if (f->blockirq)
			control |= KVM_GUESTDBG_BLOCKIRQ;
	}
	if (f->sw_bp)
		control |= KVM_GUESTDBG_USE_SW_BP;
	switch (f->inject) {
	case 0:
		break;
	case 1:
		control |= KVM_GUESTDBG_INJECT_DB;
		break;
	case 3:
		control |= KVM_GUESTDBG_INJECT_BP;
		break;
	default:
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	if (control)
		control |= KVM_GUESTDBG_ENABLE;
	out->control = control;
	return 0;
}

void x86_dr6_decode(uint64_t dr6, struct x86_dr6 *out)
{
	out->hits = (uint8_t)(dr6 & X86_DR6_B_MASK);
	out->bd = (dr6 & X86_DR6_BD) != 0;
	out->bs = (dr6 & X86_DR6_BS) != 0;
	out->bt = (dr6 & X86_DR6_BT) != 0;
}

int x86_dr7_decode(uint64_t dr7, const uint64_t addr[X86_NR_HW_SLOTS],
		   struct x86_hw_slot out[X86_NR_HW_SLOTS])
{
	int ret = 0;

	for (unsigned n = 0; n < X86_NR_HW_SLOTS; n++) {
		unsigned rw = (dr7 >> X86_DR7_RW_SHIFT(n)) & 3;
		unsigned lenc = (dr7 >> X86_DR7_LEN_SHIFT(n)) & 3;

		memset(&out[n], 0, sizeof(out[n]));
		if (!(dr7 & (X86_DR7_G(n) | X86_DR7_L(n))))
			continue;
		switch (rw) {
		case 0x0:
			out[n].type = X86_HW_EXEC;
			break;
		case 0x1:
			out[n].type = X86_HW_WRITE;
			break;
		case 0x3:
			out[n].type = X86_HW_ACCESS;
			break;
		default:
			ret = -EINVAL;
			continue;
		}
		out[n].enabled = true;
		out[n].addr = addr ? addr[n] : 0;
		out[n].len = code_len[lenc];
	}
	return ret;
}

int x86_dbg_decode(const struct kvm_guest_debug *dbg,
		   struct x86_hw_slot slots[X86_NR_HW_SLOTS],
		   struct x86_dbg_flags *f)
{
	uint32_t c = dbg->control;
	uint64_t addr[X86_NR_HW_SLOTS];

	memset(f, 0, sizeof(*f));
	if (!(c & KVM_GUESTDBG_ENABLE)) {
		/* KVM ignores every other bit when ENABLE is clear. */
		memset(slots, 0, X86_NR_HW_SLOTS * sizeof(slots[0]));
		return 0;
	}
	f->stepping = (c & KVM_GUESTDBG_SINGLESTEP) != 0;
	f->blockirq = (c & KVM_GUESTDBG_BLOCKIRQ) != 0;
	f->sw_bp = (c & KVM_GUESTDBG_USE_SW_BP) != 0;
	if (c & KVM_GUESTDBG_INJECT_BP)
		f->inject = 3;
	else if (c & KVM_GUESTDBG_INJECT_DB)
		f->inject = 1;
	if (!(c & KVM_GUESTDBG_USE_HW_BP)) {
		memset(slots, 0, X86_NR_HW_SLOTS * sizeof(slots[0]));
		return 0;
	}
	/* debugreg[] is __u64 (unsigned long long), not uint64_t. */
	for (unsigned n = 0; n < X86_NR_HW_SLOTS; n++)
		addr[n] = dbg->arch.debugreg[n];
	return x86_dr7_decode(dbg->arch.debugreg[7], addr, slots);
}

int x86_dr6_describe(uint64_t dr6, char *buf, size_t len)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} bits[] = {
	    {X86_DR6_B(0), "B0"}, {X86_DR6_B(1), "B1"}, {X86_DR6_B(2), "B2"},
	    {X86_DR6_B(3), "B3"}, {X86_DR6_BD, "BD"},	{X86_DR6_BS, "BS"},
	    {X86_DR6_BT, "BT"},
	};
	char tmp[32];
	size_t at = 0;

	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if (!(dr6 & bits[i].bit))
			continue;
		/* Seven names of two letters and their spaces fit in tmp. */
		at += (size_t)snprintf(tmp + at, sizeof(tmp) - at, "%s%s",
				       at ? " " : "", bits[i].name);
	}
	return snprintf(buf, len, "%s", at ? tmp : "-");
}

int x86_dr7_describe(uint64_t dr7, const uint64_t addr[X86_NR_HW_SLOTS],
		     char *buf, size_t len)
{
	struct x86_hw_slot s[X86_NR_HW_SLOTS];
	char tmp[4 * 48];
	size_t at = 0;

	x86_dr7_decode(dr7, addr, s);
	for (unsigned n = 0; n < X86_NR_HW_SLOTS; n++) {
		int w;

		if (!s[n].enabled) {
			unsigned rw = (dr7 >> X86_DR7_RW_SHIFT(n)) & 3;

			if (!(dr7 & (X86_DR7_G(n) | X86_DR7_L(n))) || rw != 2)
				continue;
			w = snprintf(tmp + at, sizeof(tmp) - at, "%s%u:io",
				     at ? " " : "", n);
		} else {
			w = snprintf(tmp + at, sizeof(tmp) - at,
				     "%s%u:%s@%#llx/%u", at ? " " : "", n,
				     x86_hw_type_name(s[n].type),
				     (unsigned long long)s[n].addr, s[n].len);
		}
		/* Each entry is at most 42 bytes, so tmp never truncates. */
		at += (size_t)w;
	}
	return snprintf(buf, len, "%s", at ? tmp : "-");
}
