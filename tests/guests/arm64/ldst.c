/* Accesses KVM gives a VMM no syndrome for (KVM_EXIT_ARM_NISV): a store
 * pair, a load pair, a post-indexed store and a 16-byte SIMD store into
 * `watched`, then a store pair and a load pair on `near`, which shares
 * watched's page but which no test watches. Each access is one labelled
 * instruction (ldst_stp, ldst_ldp, ldst_str_post, ldst_str_q, ldst_near_stp,
 * ldst_near_ldp) so a debugger can find it. The results are printed; they
 * must be the same under a debugger that watches that page as without one. */
#include "guest.h"

/* Four watchpoint registers' worth of variables on a page below
 * `watched`'s (.data comes before .bss), for tests that fill the
 * watchpoint registers first so watched's page gets page protection. */
struct filler {
	volatile uint64_t v[4];
} __attribute__((aligned(4096)));
struct filler filler = { { 1, 2, 3, 4 } };

struct page {
	uint64_t pair[2];   /* stp, then ldp */
	uint64_t post;      /* str x, [x], #8 */
	uint64_t pad;
	uint8_t q[16];      /* str q0 */
	uint64_t near[2];   /* stp and ldp, not watched */
} __attribute__((aligned(4096)));
struct page watched;

GUEST_PARK_APS()

__attribute__((noinline)) static void store_pair(uint64_t *p, uint64_t x,
						 uint64_t y)
{
	__asm__ volatile(".global ldst_stp\nldst_stp: stp %1, %2, [%0]"
			 : : "r"(p), "r"(x), "r"(y) : "memory");
}

__attribute__((noinline)) static uint64_t load_pair(const uint64_t *p)
{
	uint64_t x, y;

	__asm__ volatile(".global ldst_ldp\nldst_ldp: ldp %0, %1, [%2]"
			 : "=&r"(x), "=&r"(y) : "r"(p) : "memory");
	return x ^ y;
}

__attribute__((noinline)) static void store_post(uint64_t *p, uint64_t x)
{
	__asm__ volatile(".global ldst_str_post\n"
			 "ldst_str_post: str %1, [%0], #8"
			 : "+r"(p) : "r"(x) : "memory");
}

__attribute__((noinline)) static void store_q(uint8_t *p, uint64_t lo,
					      uint64_t hi)
{
	__asm__ volatile("fmov d0, %1\n"
			 "mov v0.d[1], %2\n"
			 ".global ldst_str_q\nldst_str_q: str q0, [%0]"
			 : : "r"(p), "r"(lo), "r"(hi) : "v0", "memory");
}

__attribute__((noinline)) static void near_store(uint64_t *p, uint64_t x,
						 uint64_t y)
{
	__asm__ volatile(".global ldst_near_stp\nldst_near_stp: stp %1, %2, [%0]"
			 : : "r"(p), "r"(x), "r"(y) : "memory");
}

__attribute__((noinline)) static uint64_t near_load(const uint64_t *p)
{
	uint64_t x, y;

	__asm__ volatile(".global ldst_near_ldp\n"
			 "ldst_near_ldp: ldp %0, %1, [%2]"
			 : "=&r"(x), "=&r"(y) : "r"(p) : "memory");
	return x + y;
}

int main(const struct hvm_start_info *si)
{
	uint64_t lo, hi, x, sum;

	(void)si;

	store_pair(watched.pair, 0x1111111111111111ULL, 0x2222222222222222ULL);
	x = load_pair(watched.pair);
	store_post(&watched.post, 0x3333333333333333ULL);
	store_q(watched.q, 0x4444444444444444ULL, 0x5555555555555555ULL);
	near_store(watched.near, 0x66, 0x77);
	sum = near_load(watched.near);
	memcpy(&lo, watched.q, 8);
	memcpy(&hi, watched.q + 8, 8);
	guest_printf("ldst: pair=%lx,%lx xor=%lx post=%lx q=%lx,%lx "
		     "near=%lx,%lx sum=%lx filler=%lu\n",
		     watched.pair[0], watched.pair[1], x, watched.post, lo, hi,
		     watched.near[0], watched.near[1], sum,
		     (unsigned long)(filler.v[0] + filler.v[1] + filler.v[2] +
				     filler.v[3]));
	return 0;
}
