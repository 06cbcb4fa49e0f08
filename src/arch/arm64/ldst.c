/* A64 load/store sizes, from the encoding tables of the Arm ARM's "Loads
 * and Stores" group. See ldst.h. */
#include <stdbool.h>

#include "arch/arm64/ldst.h"

#define BIT(insn, n) (((insn) >> (n)) & 1u)

/* Advanced SIMD LD1-LD4/ST1-ST4 (multiple structures): registers moved,
 * by the opcode field; 0 for an unallocated one. */
static unsigned multiple_regs(unsigned opcode)
{
	switch (opcode) {
	case 0x0: /* LD4/ST4 */
	case 0x2: /* LD1/ST1, four registers */
		return 4;
	case 0x4: /* LD3/ST3 */
	case 0x6: /* LD1/ST1, three registers */
		return 3;
	case 0x7: /* LD1/ST1, one register */
		return 1;
	case 0x8: /* LD2/ST2 */
	case 0xa: /* LD1/ST1, two registers */
		return 2;
	default:
		return 0;
	}
}

/* Advanced SIMD LD1-LD4/ST1-ST4 (single structure) and LD1R-LD4R. */
static int single_size(uint32_t insn)
{
	unsigned opcode = (insn >> 13) & 7, size = (insn >> 10) & 3;
	unsigned selem = ((opcode & 1) << 1 | BIT(insn, 21)) + 1, esize;

	switch (opcode >> 1) {
	case 0:
		esize = 1;
		break;
	case 1:
		esize = 2;
		break;
	case 2:
		esize = size & 1 ? 8 : 4;
		break;
	default: /* replicate to all lanes: one element per register */
		esize = 1u << size;
		break;
	}
	return (int)(selem * esize);
}

int arm64_ldst_size(uint32_t insn)
{
	unsigned size = insn >> 30, v = BIT(insn, 26);
	unsigned opc = (insn >> 22) & 3;

	/* Exclusives, load-acquire/store-release, CAS: size in [31:30];
	 * o2 = 0, o1 = 1 is a pair (LDXP/STXP, or CASP for sizes 0 and 1). */
	if ((insn & 0x3f000000) == 0x08000000) {
		if (!BIT(insn, 23) && BIT(insn, 21))
			return size >= 2 ? 2 << size : 8 << size;
		return 1 << size;
	}
	/* LDAPUR/STLUR: unscaled, RCpc. */
	if ((insn & 0x3f200c00) == 0x19000000)
		return 1 << size;
	/* Load register (literal): opc in [31:30]. */
	if ((insn & 0x3b000000) == 0x18000000) {
		if (v)
			return size == 3 ? -1 : 4 << size;
		return size == 1 ? 8 : size == 3 ? 0 /* PRFM */ : 4;
	}
	/* Load/store pair, every addressing form: two elements. */
	if ((insn & 0x38000000) == 0x28000000) {
		if (v)
			return size == 3 ? -1 : 8 << size;
		if (size == 1 && !BIT(insn, 22))
			return 16; /* STGP */
		return size == 3 ? -1 : size == 2 ? 16 : 8; /* LDPSW: 2 x 4 */
	}
	/* Load/store register, every form; atomic memory operations. */
	if ((insn & 0x38000000) == 0x38000000) {
		bool atomic = !BIT(insn, 24) && BIT(insn, 21) &&
			      ((insn >> 10) & 3) == 0;

		if (v)
			return size == 0 && (opc & 2) ? 16 : 1 << size;
		if (atomic)
			return 1 << size;
		if ((insn & 0xff200400) == 0xf8200400)
			return 8; /* LDRAA/LDRAB */
		if (size == 3 && opc == 2)
			return 0; /* PRFM, PRFUM */
		return 1 << size;
	}
	/* Advanced SIMD, multiple structures (no offset, post-index). */
	if ((insn & 0xbf000000) == 0x0c000000) {
		unsigned regs = multiple_regs((insn >> 12) & 0xf);

		return regs ? (int)(regs * (BIT(insn, 30) ? 16 : 8)) : -1;
	}
	/* Advanced SIMD, single structure. */
	if ((insn & 0xbf000000) == 0x0d000000)
		return single_size(insn);
	return -1;
}
