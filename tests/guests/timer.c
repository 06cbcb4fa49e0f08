/* Periodic LAPIC timer interrupts through a 64-bit IDT: the main loop
 * halts until TIMER_TICKS interrupts have arrived. */
#include "guest.h"

#define TIMER_TICKS 10
#define TIMER_VECTOR 0x20
#define SPURIOUS_VECTOR 0xff

#define LAPIC_BASE 0xfee00000UL
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_TIMER_ICR 0x380
#define LAPIC_TIMER_DCR 0x3e0

#define SVR_ENABLE 0x100
#define LVT_MASKED 0x10000
#define LVT_TIMER_PERIODIC 0x20000
#define DCR_DIVIDE_16 0x3
/* KVM's LAPIC timer counts at 1 GHz, so this is 1 ms per tick. */
#define TIMER_COUNT 62500

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_ENABLE 0x800

#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1

volatile unsigned long ticks;
volatile unsigned long spins;

GUEST_PARK_APS()

static void lapic_write(unsigned reg, uint32_t v)
{
	*(volatile uint32_t *)(LAPIC_BASE + reg) = v;
}

static void timer_interrupt(struct isr_frame *frame)
{
	(void)frame;
	ticks++;
	lapic_write(LAPIC_EOI, 0);
}

/* A spurious interrupt is not in service, so it gets no EOI. */
static void spurious_interrupt(struct isr_frame *frame)
{
	(void)frame;
}

static void unexpected_exception(struct isr_frame *frame)
{
	guest_printf("timer: unexpected exception %lu\n", frame->vector);
	guest_exit(GUEST_EXIT_UNHANDLED);
}

int main(const struct hvm_start_info *si)
{
	unsigned v;

	(void)si;
	idt_init();
	for (v = 0; v < 32; v++)
		idt_set_handler(v, unexpected_exception);
	idt_set_handler(TIMER_VECTOR, timer_interrupt);
	idt_set_handler(SPURIOUS_VECTOR, spurious_interrupt);

	/* Firmware may have left the 8259 programmed with vectors that
	 * overlap the exceptions; keep it out of the way. */
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);

	if (!(rdmsr(MSR_APIC_BASE) & APIC_BASE_ENABLE))
		wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_ENABLE);
	lapic_write(LAPIC_SVR, SVR_ENABLE | SPURIOUS_VECTOR);
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
	lapic_write(LAPIC_TIMER_DCR, DCR_DIVIDE_16);
	lapic_write(LAPIC_LVT_TIMER, LVT_TIMER_PERIODIC | TIMER_VECTOR);
	lapic_write(LAPIC_TIMER_ICR, TIMER_COUNT);

	while (ticks < TIMER_TICKS) {
		spins++;
		/* sti's one-instruction shadow means no interrupt slips in
		 * between it and hlt, so no wake-up is lost. */
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	}

	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | TIMER_VECTOR);
	lapic_write(LAPIC_TIMER_ICR, 0);
	guest_printf("timer: got %u ticks\n", TIMER_TICKS);
	return 0;
}
