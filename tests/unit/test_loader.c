/* Unit tests for the ELF guest loader. Images are built by hand in memory so
 * each test controls exactly the header field it breaks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/loader.h"

#define RAM_SIZE (4u << 20)
#define HIGH_GPA 0x100000000ULL
#define RESERVED_END 0x10000
#define POISON 0xa5

#define IMG_CAP (64 * 1024)
#define HDR_AREA 0x1000 /* ELF header and program headers live below */
#define MAX_PH 40

#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* A class-neutral program header; telf_finish() writes the real one. */
struct tphdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct telf {
	unsigned char cls;
	uint16_t type, machine;
	uint64_t entry;
	struct tphdr ph[MAX_PH];
	unsigned nph;
	bool note_scn; /* emit a SHT_NOTE section for [note_off, +size) */
	uint64_t note_off, note_size;
	uint8_t *buf;
	size_t len;
};

struct fixture {
	uint8_t *low, *high;
	struct loader_ram ram1[1];   /* 4 MiB at 0 */
	struct loader_ram ram2[2];   /* 4 MiB at 0 and 4 MiB at 4 GiB */
	struct loader_ram ramadj[2]; /* 4 MiB at 0 and 4 MiB at 4 MiB */
	struct loader_config cfg, cfg2, cfgadj;
	struct telf t;
	struct loader_image img;
	char err[512];
};

/* Differs per segment and per byte, so a copy that lands at the wrong
 * address or from the wrong file offset is caught. */
static uint8_t pattern(uint64_t gpa, uint64_t i)
{
	return (uint8_t)((gpa >> 12) * 7 + i * 13 + 1);
}

static void telf_init(struct telf *t, unsigned char cls, uint16_t machine)
{
	uint8_t *buf = t->buf;

	memset(t, 0, sizeof(*t));
	memset(buf, 0, IMG_CAP);
	t->buf = buf;
	t->cls = cls;
	t->type = ET_EXEC;
	t->machine = machine;
	t->len = HDR_AREA;
}

static uint64_t telf_reserve(struct telf *t, size_t n, size_t align)
{
	uint64_t off;

	t->len = (t->len + align - 1) & ~(align - 1);
	assert_true(t->len + n <= IMG_CAP);
	off = t->len;
	t->len += n;
	return off;
}

static unsigned telf_phdr(struct telf *t, uint32_t type, uint64_t off,
			  uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
	struct tphdr *ph;

	assert_true(t->nph < MAX_PH);
	ph = &t->ph[t->nph];
	ph->type = type;
	ph->flags = PF_R;
	ph->offset = off;
	ph->vaddr = paddr;
	ph->paddr = paddr;
	ph->filesz = filesz;
	ph->memsz = memsz;
	ph->align = type == PT_LOAD ? 0x1000 : 4;
	return t->nph++;
}

/* A PT_LOAD whose file bytes follow pattern(paddr, i). */
static unsigned telf_load(struct telf *t, uint64_t paddr, uint64_t filesz,
			  uint64_t memsz, uint32_t flags)
{
	uint64_t off = telf_reserve(t, filesz, 16), i;
	unsigned idx;

	for (i = 0; i < filesz; i++)
		t->buf[off + i] = pattern(paddr, i);
	idx = telf_phdr(t, PT_LOAD, off, paddr, filesz, memsz);
	t->ph[idx].flags = flags;
	return idx;
}

static size_t put_note(uint8_t *p, const char *name, uint32_t type,
		       const void *desc, uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	Elf64_Nhdr nh = {namesz, descsz, type};
	size_t n = sizeof(nh);

	memcpy(p, &nh, sizeof(nh));
	memcpy(p + n, name, namesz);
	n += (namesz + 3) & ~3u;
	memcpy(p + n, desc, descsz);
	n += (descsz + 3) & ~3u;
	return n;
}

/* A GNU build-id note, then the Xen PVH note: the loader must walk past
 * unrelated notes. With descsz 8 the high half is junk that must be
 * ignored. Returns the file offset of the notes; *size gets their size. */
static uint64_t telf_notes(struct telf *t, uint32_t entry, uint32_t descsz,
			   uint64_t *size)
{
	static const uint8_t build_id[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	uint32_t desc[2] = {entry, 0xdeadbeef};
	uint8_t tmp[128];
	size_t n;
	uint64_t off;

	n = put_note(tmp, "GNU", NT_GNU_BUILD_ID, build_id, sizeof(build_id));
	n += put_note(tmp + n, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, desc, descsz);
	off = telf_reserve(t, n, 4);
	memcpy(t->buf + off, tmp, n);
	*size = n;
	return off;
}

static void telf_pvh_phdr(struct telf *t, uint32_t entry, uint32_t descsz)
{
	uint64_t size, off = telf_notes(t, entry, descsz, &size);

	telf_phdr(t, PT_NOTE, off, 0, size, 0);
}

static void telf_pvh_section(struct telf *t, uint32_t entry)
{
	t->note_off = telf_notes(t, entry, 4, &t->note_size);
	t->note_scn = true;
}

static void write_ehdr64(struct telf *t, uint64_t shoff, uint16_t shnum)
{
	Elf64_Ehdr eh;
	unsigned i;

	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = t->type;
	eh.e_machine = t->machine;
	eh.e_version = EV_CURRENT;
	eh.e_entry = t->entry;
	eh.e_phoff = sizeof(eh);
	eh.e_shoff = shoff;
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (uint16_t)t->nph;
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = shnum;
	eh.e_shstrndx = shnum ? 2 : SHN_UNDEF;
	memcpy(t->buf, &eh, sizeof(eh));
	for (i = 0; i < t->nph; i++) {
		const struct tphdr *s = &t->ph[i];
		Elf64_Phdr ph = {
		    .p_type = s->type,
		    .p_flags = s->flags,
		    .p_offset = s->offset,
		    .p_vaddr = s->vaddr,
		    .p_paddr = s->paddr,
		    .p_filesz = s->filesz,
		    .p_memsz = s->memsz,
		    .p_align = s->align,
		};
		memcpy(t->buf + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
	}
}

static void write_ehdr32(struct telf *t, uint64_t shoff, uint16_t shnum)
{
	Elf32_Ehdr eh;
	unsigned i;

	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS32;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = t->type;
	eh.e_machine = t->machine;
	eh.e_version = EV_CURRENT;
	eh.e_entry = (uint32_t)t->entry;
	eh.e_phoff = sizeof(eh);
	eh.e_shoff = (uint32_t)shoff;
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf32_Phdr);
	eh.e_phnum = (uint16_t)t->nph;
	eh.e_shentsize = sizeof(Elf32_Shdr);
	eh.e_shnum = shnum;
	eh.e_shstrndx = shnum ? 2 : SHN_UNDEF;
	memcpy(t->buf, &eh, sizeof(eh));
	for (i = 0; i < t->nph; i++) {
		const struct tphdr *s = &t->ph[i];
		Elf32_Phdr ph = {
		    .p_type = s->type,
		    .p_flags = s->flags,
		    .p_offset = (uint32_t)s->offset,
		    .p_vaddr = (uint32_t)s->vaddr,
		    .p_paddr = (uint32_t)s->paddr,
		    .p_filesz = (uint32_t)s->filesz,
		    .p_memsz = (uint32_t)s->memsz,
		    .p_align = (uint32_t)s->align,
		};
		memcpy(t->buf + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
	}
}

/* Section headers: null, the note section, .shstrtab. */
static uint64_t write_sections(struct telf *t)
{
	static const char strtab[] = "\0.note.Xen\0.shstrtab";
	uint64_t str_off = telf_reserve(t, sizeof(strtab), 1), shoff;
	uint64_t off[3] = {0, t->note_off, str_off};
	uint64_t size[3] = {0, t->note_size, sizeof(strtab)};
	uint32_t name[3] = {0, 1, 11};
	uint32_t type[3] = {SHT_NULL, SHT_NOTE, SHT_STRTAB};
	unsigned i;

	memcpy(t->buf + str_off, strtab, sizeof(strtab));
	if (t->cls == ELFCLASS64) {
		shoff = telf_reserve(t, 3 * sizeof(Elf64_Shdr), 8);
		for (i = 0; i < 3; i++) {
			Elf64_Shdr sh = {
			    .sh_name = name[i],
			    .sh_type = type[i],
			    .sh_offset = off[i],
			    .sh_size = size[i],
			    .sh_addralign = i ? (i == 1 ? 4 : 1) : 0,
			};
			memcpy(t->buf + shoff + i * sizeof(sh), &sh,
			       sizeof(sh));
		}
	} else {
		shoff = telf_reserve(t, 3 * sizeof(Elf32_Shdr), 4);
		for (i = 0; i < 3; i++) {
			Elf32_Shdr sh = {
			    .sh_name = name[i],
			    .sh_type = type[i],
			    .sh_offset = (uint32_t)off[i],
			    .sh_size = (uint32_t)size[i],
			    .sh_addralign = i ? (i == 1 ? 4 : 1) : 0,
			};
			memcpy(t->buf + shoff + i * sizeof(sh), &sh,
			       sizeof(sh));
		}
	}
	return shoff;
}

/* Writes the headers and returns the image size. */
static size_t telf_finish(struct telf *t)
{
	uint64_t shoff = t->note_scn ? write_sections(t) : 0;
	uint16_t shnum = t->note_scn ? 3 : 0;

	if (t->cls == ELFCLASS64)
		write_ehdr64(t, shoff, shnum);
	else
		write_ehdr32(t, shoff, shnum);
	return t->len;
}

/* Field offsets shared by tests that corrupt a finished ELF64 header. */
static void patch16(struct telf *t, size_t off, uint16_t v)
{
	memcpy(t->buf + off, &v, sizeof(v));
}

static void patch64(struct telf *t, size_t off, uint64_t v)
{
	memcpy(t->buf + off, &v, sizeof(v));
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->low = malloc(RAM_SIZE);
	f->high = malloc(RAM_SIZE);
	f->t.buf = malloc(IMG_CAP);
	if (!f->low || !f->high || !f->t.buf)
		return -1;
	memset(f->low, POISON, RAM_SIZE);
	memset(f->high, POISON, RAM_SIZE);

	f->ram1[0] = (struct loader_ram){0, RAM_SIZE, f->low};
	f->ram2[0] = f->ram1[0];
	f->ram2[1] = (struct loader_ram){HIGH_GPA, RAM_SIZE, f->high};
	f->ramadj[0] = f->ram1[0];
	f->ramadj[1] = (struct loader_ram){RAM_SIZE, RAM_SIZE, f->high};

	f->cfg = (struct loader_config){
	    .ram = f->ram1,
	    .nr_ram = 1,
	    .reserved_end = RESERVED_END,
	    .machine64 = EM_X86_64,
	    .machine32 = EM_386,
	};
	f->cfg2 = f->cfg;
	f->cfg2.ram = f->ram2;
	f->cfg2.nr_ram = 2;
	f->cfgadj = f->cfg;
	f->cfgadj.ram = f->ramadj;
	f->cfgadj.nr_ram = 2;

	telf_init(&f->t, ELFCLASS64, EM_X86_64);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->low);
	free(f->high);
	free(f->t.buf);
	free(f);
	return 0;
}

static void assert_untouched(const uint8_t *ram, const char *which)
{
	size_t i;

	for (i = 0; i < RAM_SIZE; i++)
		if (ram[i] != POISON)
			fail_msg("%s RAM byte 0x%zx is 0x%02x, want 0x%02x "
				 "(untouched)",
				 which, i, ram[i], POISON);
}

static void assert_has(const char *msg, const char *phrase)
{
	if (!strstr(msg, phrase))
		fail_msg("message \"%s\" lacks \"%s\"", msg, phrase);
}

static void expect_ok(struct fixture *f, const struct loader_config *cfg,
		      size_t len)
{
	int ret;

	f->err[0] = '\0';
	ret = loader_load_mem("test.elf", f->t.buf, len, cfg, &f->img, f->err,
			      sizeof(f->err));
	if (ret != 0)
		fail_msg("loader_load_mem = %d (%s), want 0", ret, f->err);
}

/*
 * A rejection must return want, explain itself in one line starting with
 * the image name, and leave both guest RAM and *out untouched.
 */
static void expect_reject(struct fixture *f, const struct loader_config *cfg,
			  size_t len, int want, const char *phrase)
{
	struct loader_image before;
	int ret;

	memset(&f->img, 0x5a, sizeof(f->img));
	memcpy(&before, &f->img, sizeof(before));
	f->err[0] = '\0';
	ret = loader_load_mem("test.elf", f->t.buf, len, cfg, &f->img, f->err,
			      sizeof(f->err));
	print_message("    -> %s\n", f->err);
	if (ret != want)
		fail_msg("loader_load_mem = %d (%s), want %d", ret, f->err,
			 want);
	assert_has(f->err, phrase);
	assert_int_equal(strncmp(f->err, "test.elf: ", 10), 0);
	assert_null(strchr(f->err, '\n'));
	assert_memory_equal(&f->img, &before, sizeof(before));
	assert_untouched(f->low, "low");
	assert_untouched(f->high, "high");
}

static void assert_loaded(const uint8_t *hva, uint64_t gpa, uint64_t filesz,
			  uint64_t memsz)
{
	uint64_t i;

	for (i = 0; i < filesz; i++)
		if (hva[i] != pattern(gpa, i))
			fail_msg("byte at gpa 0x%llx is 0x%02x, want 0x%02x",
				 (unsigned long long)(gpa + i), hva[i],
				 pattern(gpa, i));
	for (; i < memsz; i++)
		if (hva[i] != 0)
			fail_msg("bss byte at gpa 0x%llx is 0x%02x, want 0",
				 (unsigned long long)(gpa + i), hva[i]);
	/* The byte after memsz is not part of the segment. */
	assert_int_equal(hva[memsz], POISON);
}

/* ---- images that load ---- */

static void test_pvh64_loads(void **state)
{
	struct fixture *f = *state;
	struct telf *t = &f->t;

	telf_pvh_phdr(t, 0x100010, 4);
	telf_load(t, 0x100000, 0x234, 0x234, PF_R | PF_X);
	telf_load(t, 0x200000, 0x100, 0x3000, PF_R | PF_W);
	t->entry = 0xffffffff81000000ULL; /* ignored for PVH */
	expect_ok(f, &f->cfg, telf_finish(t));

	assert_loaded(f->low + 0x100000, 0x100000, 0x234, 0x234);
	assert_loaded(f->low + 0x200000, 0x200000, 0x100, 0x3000);
	assert_int_equal(f->low[0xfffff], POISON);
	assert_true(f->img.has_pvh);
	assert_int_equal(f->img.pvh_entry, 0x100010);
	assert_int_equal(f->img.entry, 0xffffffff81000000ULL);
	assert_true(f->img.is_64);
	assert_int_equal(f->img.machine, EM_X86_64);
	assert_int_equal(f->img.lowest_gpa, 0x100000);
	assert_int_equal(f->img.highest_gpa, 0x203000);
	assert_int_equal(f->img.nr_segments, 2);
	assert_int_equal(f->img.segments[0].gpa, 0x100000);
	assert_int_equal(f->img.segments[0].memsz, 0x234);
	assert_int_equal(f->img.segments[0].filesz, 0x234);
	assert_int_equal(f->img.segments[0].vaddr, 0x100000);
	assert_int_equal(f->img.segments[0].flags, PF_R | PF_X);
	assert_int_equal(f->img.segments[1].gpa, 0x200000);
	assert_int_equal(f->img.segments[1].memsz, 0x3000);
	assert_int_equal(f->img.segments[1].filesz, 0x100);
	assert_int_equal(f->img.segments[1].flags, PF_R | PF_W);
}

static void test_pvh32_loads(void **state)
{
	struct fixture *f = *state;
	struct telf *t = &f->t;

	telf_init(t, ELFCLASS32, EM_386);
	telf_load(t, 0x100000, 0x80, 0x1000, PF_R | PF_W | PF_X);
	telf_pvh_phdr(t, 0x100000, 4);
	t->entry = 0x100000;
	expect_ok(f, &f->cfg, telf_finish(t));

	assert_loaded(f->low + 0x100000, 0x100000, 0x80, 0x1000);
	assert_false(f->img.is_64);
	assert_int_equal(f->img.machine, EM_386);
	assert_true(f->img.has_pvh);
	assert_int_equal(f->img.pvh_entry, 0x100000);
	assert_int_equal(f->img.nr_segments, 1);
	assert_int_equal(f->img.lowest_gpa, 0x100000);
	assert_int_equal(f->img.highest_gpa, 0x101000);
	assert_int_equal(f->img.segments[0].flags, PF_R | PF_W | PF_X);
}

static void test_native64_loads(void **state)
{
	struct fixture *f = *state;
	struct telf *t = &f->t;

	telf_load(t, 0x200000, 0x400, 0x400, PF_R | PF_X);
	t->entry = 0x200040;
	expect_ok(f, &f->cfg, telf_finish(t));

	assert_loaded(f->low + 0x200000, 0x200000, 0x400, 0x400);
	assert_false(f->img.has_pvh);
	assert_int_equal(f->img.pvh_entry, 0);
	assert_int_equal(f->img.entry, 0x200040);
	assert_true(f->img.is_64);
}

/* Native entry is matched against virtual addresses, which need not equal
 * the physical ones the segment is loaded at. */
static void test_native64_entry_by_vaddr(void **state)
{
	struct fixture *f = *state;
	struct telf *t = &f->t;
	unsigned i;

	i = telf_load(t, 0x200000, 0x400, 0x400, PF_R | PF_X);
	t->ph[i].vaddr = 0xffffffff80200000ULL;
	t->entry = 0xffffffff80200010ULL;
	expect_ok(f, &f->cfg, telf_finish(t));
	assert_int_equal(f->img.segments[0].vaddr, 0xffffffff80200000ULL);
	assert_int_equal(f->img.segments[0].gpa, 0x200000);
	assert_loaded(f->low + 0x200000, 0x200000, 0x400, 0x400);
}

static void test_pvh_note_desc8(void **state)
{
	struct fixture *f = *state;
	struct telf *t = &f->t;

	telf_load(t, 0x100000, 0x100, 0x100, PF_R | PF_X);
	telf_pvh_phdr(t, 0x100020, 8);
	expect_ok(f, &f->cfg, telf_finish(t));
	assert_true(f->img.has_pvh);
	assert_int_equal(f->img.pvh_entry, 0x100020);
}

static void test_pvh_note_in_section(void **state)
{
	struct fixture *f = *state;
	struct telf *t = &f->t;

	telf_load(t, 0x100000, 0x100, 0x100, PF_R | PF_X);
	telf_pvh_section(t, 0x100030);
	expect_ok(f, &f->cfg, telf_finish(t));
	assert_true(f->img.has_pvh);
	assert_int_equal(f->img.pvh_entry, 0x100030);
}

static void test_pvh32_note_in_section(void **state)
{
	struct fixture *f = *state;
	struct telf *t = &f->t;

	telf_init(t, ELFCLASS32, EM_386);
	telf_load(t, 0x100000, 0x100, 0x100, PF_R | PF_X);
	telf_pvh_section(t, 0x100030);
	expect_ok(f, &f->cfg, telf_finish(t));
	assert_int_equal(f->img.pvh_entry, 0x100030);
}

static void test_high_ram_range_loads(void **state)
{
	struct fixture *f = *state;
	struct telf *t = &f->t;

	telf_load(t, 0x100000, 0x100, 0x100, PF_R | PF_X);
	telf_load(t, HIGH_GPA + 0x1000, 0x200, 0x2000, PF_R | PF_W);
	telf_pvh_phdr(t, 0x100000, 4);
	expect_ok(f, &f->cfg2, telf_finish(t));
	assert_loaded(f->low + 0x100000, 0x100000, 0x100, 0x100);
	assert_loaded(f->high + 0x1000, HIGH_GPA + 0x1000, 0x200, 0x2000);
	assert_int_equal(f->img.highest_gpa, HIGH_GPA + 0x3000);
}

/* Linkers emit empty PT_LOADs for empty output sections. */
static void test_empty_load_skipped(void **state)
{
	struct fixture *f = *state;
	struct telf *t = &f->t;

	telf_load(t, 0x100000, 0, 0, PF_R);
	telf_load(t, 0x100000, 0x100, 0x100, PF_R | PF_X);
	telf_pvh_phdr(t, 0x100000, 4);
	expect_ok(f, &f->cfg, telf_finish(t));
	assert_int_equal(f->img.nr_segments, 1);
}

static void test_max_segments_load(void **state)
{
	struct fixture *f = *state;
	struct telf *t = &f->t;
	unsigned i;

	for (i = 0; i < LOADER_MAX_SEGMENTS; i++)
		telf_load(t, 0x100000 + i * 0x1000, 0x10, 0x20, PF_R);
	telf_pvh_phdr(t, 0x100000, 4);
	expect_ok(f, &f->cfg, telf_finish(t));
	assert_int_equal(f->img.nr_segments, LOADER_MAX_SEGMENTS);
	assert_loaded(f->low + 0x11f000, 0x11f000, 0x10, 0x20);
}

/* ---- rejections ---- */

static void test_reject_empty(void **state)
{
	struct fixture *f = *state;

	expect_reject(f, &f->cfg, 0, -EINVAL, "empty file");
}

static void test_reject_not_elf(void **state)
{
	struct fixture *f = *state;

	memcpy(f->t.buf, "#!/bin/sh\necho hello\n", 21);
	expect_reject(f, &f->cfg, 21, -EINVAL, "not an ELF file");
	expect_reject(f, &f->cfg, 3, -EINVAL, "not an ELF file");
}

static void test_reject_truncated_header(void **state)
{
	struct fixture *f = *state;

	telf_load(&f->t, 0x100000, 0x100, 0x100, PF_R);
	telf_finish(&f->t);
	expect_reject(f, &f->cfg, 40, -EINVAL, "truncated ELF header");
	expect_reject(f, &f->cfg, 10, -EINVAL, "truncated ELF header");
}

static void test_reject_truncated_segment(void **state)
{
	struct fixture *f = *state;
	struct telf *t = &f->t;

	telf_pvh_phdr(t, 0x100000, 4);
	telf_load(t, 0x100000, 0x800, 0x800, PF_R | PF_X);
	expect_reject(f, &f->cfg, telf_finish(t) - 0x10, -EINVAL,
		      "the file is truncated");
	assert_has(f->err, "segment 1");
}

static void test_reject_truncated_phdrs(void **state)
{
	struct fixture *f = *state;
	struct telf *t = &f->t;

	telf_pvh_phdr(t, 0x100000, 4);
	telf_load(t, 0x100000, 0x800, 0x800, PF_R | PF_X);
	telf_finish(t);
	/* Cut inside the second program header. */
	expect_reject(f, &f->cfg, sizeof(Elf64_Ehdr) + 80, -EINVAL,
		      "program header table");
	assert_has(f->err, "truncated");
}

static void test_reject_truncated_shdrs(void **state)
{
	struct fixture *f = *state;
	struct telf *t = &f->t;

	telf_load(t, 0x100000, 0x100, 0x100, PF_R | PF_X);
	telf_pvh_section(t, 0x100000);
	expect_reject(f, &f->cfg, telf_finish(t) - 8, -EINVAL,
		      "section header table");
	assert_has(f->err, "truncated");
}

static void test_reject_phdrs_beyond_file(void **state)
{
	struct fixture *f = *state;
	struct telf *t = &f->t;
	size_t len;

	telf_load(t, 0x100000, 0x100, 0x100, PF_R | PF_X);
	len = telf_finish(t);
	patch64(t, offsetof(Elf64_Ehdr, e_phoff), 0xfffffffffffffff0ULL);
	expect_reject(f, &f->cfg, len, -EINVAL, "program header table");
}

static void test_reject_bad_phentsize(void **state)
{
	struct fixture *f = *state;
	struct telf *t = &f->t;
	size_t len;

	telf_load(t, 0x100000, 0x100, 0x100, PF_R | PF_X);
	len = telf_finish(t);
	patch16(t, offsetof(Elf64_Ehdr, e_phentsize), 40);
	expect_reject(f, &f->cfg, len, -EINVAL, "entry size is 40");
}

/* Errors only libelf detects come through with libelf's own text. */
static void test_reject_corrupt_note_section(void **state)
{
	struct fixture *f = *state;
	struct telf *t = &f->t;
	uint64_t shoff;
	size_t len;

	telf_load(t, 0x100000, 0x100, 0x100, PF_R | PF_X);
	telf_pvh_section(t, 0x100000);
	len = telf_finish(t);
	memcpy(&shoff, t->buf + offsetof(Elf64_Ehdr, e_shoff), sizeof(shoff));
	patch64(t, shoff + sizeof(Elf64_Shdr) + offsetof(Elf64_Shdr, sh_offset),
		0x7fff0000);
	expect_reject(f, &f->cfg, len, -EINVAL, "corrupt note section 1: ");
}

static void test_reject_wrong_machine(void **state)
{
	struct fixture *f = *state;
	struct telf *t = &f->t;

	telf_init(t, ELFCLASS64, EM_AARCH64);
	telf_load(t, 0x100000, 0x100, 0x100, PF_R | PF_X);
	t->entry = 0x100000;
	f->cfg.machine32 = 0;
	expect_reject(f, &f->cfg, telf_finish(t), -EINVAL,
		      "built for AArch64 (183)");
	assert_has(f->err, "x86-64 (EM_X86_64)");
}

static void test_reject_wrong_machine32(void **state)
{
	struct fixture *f = *state;
	struct telf *t = &f->t;

	telf_init(t, ELFCLASS32, EM_ARM);
	telf_load(t, 0x100000, 0x100, 0x100, PF_R | PF_X);
	telf_pvh_phdr(t, 0x100000, 4);
	expect_reject(f, &f->cfg, telf_finish(t), -EINVAL,
		      "built for ARM (40)");
	assert_has(f->err, "i386 (EM_386)");
}

static void test_reject_elf32_not_accepted(void **state)
{
	struct fixture *f = *state;
	struct telf *t = &f->t;

	telf_init(t, ELFCLASS32, EM_386);
	telf_load(t, 0x100000, 0x100, 0x100, PF_R | PF_X);
	telf_pvh_phdr(t, 0x100000, 4);
	f->cfg.machine32 = 0;
	expect_reject(f, &f->cfg, telf_finish(t), -EINVAL,
		      "32-bit (ELFCLASS32) images are not supported");
}

static void test_reject_elf32_without_note(void **state)
{
	struct fixture *f = *state;
	struct telf *t = &f->t;

	telf_init(t, ELFCLASS32, EM_386);
	telf_load(t, 0x100000, 0x100, 0x100, PF_R | PF_X);
	t->entry = 0x100000;
	expect_reject(f, &f->cfg, telf_finish(t), -EINVAL,
		      "32-bit image without a PVH entry note");
}

static void test_reject_big_endian(void **state)
{
	struct fixture *f = *state;
	size_t len;

	telf_load(&f->t, 0x100000, 0x100, 0x100, PF_R | PF_X);
	len = telf_finish(&f->t);
	f->t.buf[EI_DATA] = ELFDATA2MSB;
	expect_reject(f, &f->cfg, len, -EINVAL, "big-endian");
}

static void test_reject_bad_class(void **state)
{
	struct fixture *f = *state;
	size_t len;

	telf_load(&f->t, 0x100000, 0x100, 0x100, PF_R | PF_X);
	len = telf_finish(&f->t);
	f->t.buf[EI_CLASS] = ELFCLASSNONE;
	expect_reject(f, &f->cfg, len, -EINVAL, "invalid ELF class 0");
}

static void test_reject_et_dyn(void **state)
{
	struct fixture *f = *state;

	telf_load(&f->t, 0x100000, 0x100, 0x100, PF_R | PF_X);
	telf_pvh_phdr(&f->t, 0x100000, 4);
	f->t.type = ET_DYN;
	expect_reject(f, &f->cfg, telf_finish(&f->t), -EINVAL,
		      "position-independent images are not supported; "
		      "link with -no-pie");
}

static void test_reject_et_rel(void **state)
{
	struct fixture *f = *state;

	f->t.type = ET_REL;
	expect_reject(f, &f->cfg, telf_finish(&f->t), -EINVAL,
		      "relocatable object file");
}

static void test_reject_filesz_gt_memsz(void **state)
{
	struct fixture *f = *state;

	telf_pvh_phdr(&f->t, 0x100000, 4);
	telf_load(&f->t, 0x100000, 0x200, 0x100, PF_R | PF_X);
	expect_reject(f, &f->cfg, telf_finish(&f->t), -EINVAL,
		      "segment 1: file size 0x200 is larger than its memory "
		      "size 0x100");
}

static void test_reject_outside_ram(void **state)
{
	struct fixture *f = *state;

	telf_load(&f->t, 0x500000, 0x100, 0x1000, PF_R | PF_X);
	telf_pvh_phdr(&f->t, 0x500000, 4);
	expect_reject(f, &f->cfg, telf_finish(&f->t), -EINVAL,
		      "segment 0 [0x500000-0x501000) lies outside guest RAM");
	assert_has(f->err, "[0x0-0x400000), 4 MiB");
}

static void test_reject_beyond_ram_end(void **state)
{
	struct fixture *f = *state;

	telf_load(&f->t, RAM_SIZE - 0x1000, 0x100, 0x2000, PF_R | PF_X);
	telf_pvh_phdr(&f->t, RAM_SIZE - 0x1000, 4);
	expect_reject(f, &f->cfg, telf_finish(&f->t), -EINVAL,
		      "extends beyond guest RAM");
}

static void test_reject_in_ram_hole(void **state)
{
	struct fixture *f = *state;

	telf_load(&f->t, 0x80000000, 0x100, 0x100, PF_R | PF_X);
	telf_pvh_phdr(&f->t, 0x80000000, 4);
	expect_reject(f, &f->cfg2, telf_finish(&f->t), -EINVAL,
		      "lies outside guest RAM");
	assert_has(f->err, "[0x100000000-0x100400000), 4 MiB");
}

static void test_reject_past_high_range(void **state)
{
	struct fixture *f = *state;

	telf_load(&f->t, 0x100000, 0x100, 0x100, PF_R | PF_X);
	telf_load(&f->t, HIGH_GPA + RAM_SIZE - 0x100, 0, 0x200, PF_R | PF_W);
	telf_pvh_phdr(&f->t, 0x100000, 4);
	expect_reject(f, &f->cfg2, telf_finish(&f->t), -EINVAL,
		      "segment 1 [0x1003fff00-0x100400100) extends beyond "
		      "guest RAM");
}

static void test_reject_spanning_ranges(void **state)
{
	struct fixture *f = *state;

	telf_load(&f->t, RAM_SIZE - 0x1000, 0x100, 0x2000, PF_R | PF_X);
	telf_pvh_phdr(&f->t, RAM_SIZE - 0x1000, 4);
	expect_reject(f, &f->cfgadj, telf_finish(&f->t), -EINVAL,
		      "spans two guest RAM ranges");
}

static void test_reject_reserved(void **state)
{
	struct fixture *f = *state;

	telf_load(&f->t, 0x8000, 0x100, 0x10000, PF_R | PF_X);
	telf_pvh_phdr(&f->t, 0x8000, 4);
	expect_reject(f, &f->cfg, telf_finish(&f->t), -EINVAL,
		      "segment 0 [0x8000-0x18000) overlaps kvmdbg's boot area "
		      "below 0x10000");
}

static void test_reject_overlap(void **state)
{
	struct fixture *f = *state;

	telf_load(&f->t, 0x100000, 0x100, 0x2000, PF_R | PF_X);
	telf_load(&f->t, 0x101000, 0x100, 0x100, PF_R | PF_W);
	telf_pvh_phdr(&f->t, 0x100000, 4);
	expect_reject(f, &f->cfg, telf_finish(&f->t), -EINVAL,
		      "segments 0 [0x100000-0x102000) and 1 "
		      "[0x101000-0x101100) overlap");
}

static void test_reject_gpa_overflow(void **state)
{
	struct fixture *f = *state;

	telf_load(&f->t, 0xfffffffffffff000ULL, 0, 0x2000, PF_R | PF_W);
	expect_reject(f, &f->cfg, telf_finish(&f->t), -EINVAL,
		      "wraps around the address space");
}

static void test_reject_pvh_entry_outside(void **state)
{
	struct fixture *f = *state;

	telf_load(&f->t, 0x100000, 0x100, 0x1000, PF_R | PF_X);
	telf_pvh_phdr(&f->t, 0x101000, 4); /* one past the end */
	expect_reject(f, &f->cfg, telf_finish(&f->t), -EINVAL,
		      "PVH entry 0x101000 is outside the loaded image");
}

static void test_reject_native_entry_outside(void **state)
{
	struct fixture *f = *state;
	unsigned i;

	/* The entry is inside the segment physically but not virtually. */
	i = telf_load(&f->t, 0x100000, 0x100, 0x1000, PF_R | PF_X);
	f->t.ph[i].vaddr = 0xffffffff80100000ULL;
	f->t.entry = 0x100010;
	expect_reject(f, &f->cfg, telf_finish(&f->t), -EINVAL,
		      "entry point 0x100010 is outside the loaded image");
}

static void test_reject_no_load(void **state)
{
	struct fixture *f = *state;

	telf_pvh_phdr(&f->t, 0x100000, 4);
	expect_reject(f, &f->cfg, telf_finish(&f->t), -EINVAL,
		      "no loadable (PT_LOAD) segment");
}

static void test_reject_only_empty_load(void **state)
{
	struct fixture *f = *state;

	telf_load(&f->t, 0x100000, 0, 0, PF_R);
	expect_reject(f, &f->cfg, telf_finish(&f->t), -EINVAL,
		      "no loadable (PT_LOAD) segment");
}

static void test_reject_too_many_segments(void **state)
{
	struct fixture *f = *state;
	unsigned i;

	for (i = 0; i <= LOADER_MAX_SEGMENTS; i++)
		telf_load(&f->t, 0x100000 + i * 0x1000, 0x10, 0x20, PF_R);
	telf_pvh_phdr(&f->t, 0x100000, 4);
	expect_reject(f, &f->cfg, telf_finish(&f->t), -EINVAL,
		      "more than 32 loadable segments");
}

static void test_reject_bad_note_descsz(void **state)
{
	struct fixture *f = *state;

	telf_load(&f->t, 0x100000, 0x100, 0x100, PF_R | PF_X);
	telf_pvh_phdr(&f->t, 0x100000, 2);
	expect_reject(f, &f->cfg, telf_finish(&f->t), -EINVAL,
		      "PVH entry note has a 2-byte descriptor");
}

/* A short or missing error buffer must not break the loader. */
static void test_small_error_buffer(void **state)
{
	struct fixture *f = *state;
	char small[8];
	int ret;

	ret = loader_load_mem("test.elf", f->t.buf, 0, &f->cfg, &f->img, small,
			      sizeof(small));
	assert_int_equal(ret, -EINVAL);
	assert_string_equal(small, "test.el");
	ret =
	    loader_load_mem("test.elf", f->t.buf, 0, &f->cfg, &f->img, NULL, 0);
	assert_int_equal(ret, -EINVAL);
}

/*
 * Deterministic mutations of a valid image, mostly in the headers and
 * notes: every outcome must be a clean accept or a clean -EINVAL with a
 * message, never a crash or an out-of-bounds read (run under ASan).
 */
static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_mutations_are_handled(void **state)
{
	struct fixture *f = *state;
	struct telf *t = &f->t;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	size_t len, hdr, n;
	uint8_t *base;
	int i, j, ret, accepted = 0;

	telf_pvh_phdr(t, 0x100010, 8);
	telf_load(t, 0x100000, 0x234, 0x234, PF_R | PF_X);
	telf_load(t, 0x200000, 0x100, 0x3000, PF_R | PF_W);
	telf_pvh_section(t, 0x100010);
	len = telf_finish(t);
	hdr = sizeof(Elf64_Ehdr) + t->nph * sizeof(Elf64_Phdr);
	base = malloc(len);
	assert_non_null(base);
	memcpy(base, t->buf, len);

	for (i = 0; i < 20000; i++) {
		memcpy(t->buf, base, len);
		n = len;
		for (j = 0; j < 1 + (int)(xorshift(&seed) % 4); j++) {
			uint64_t r = xorshift(&seed);
			/* Three in four mutations hit the headers. */
			size_t pos = r % 4 ? (r >> 8) % hdr : (r >> 8) % len;

			t->buf[pos] = (uint8_t)(r >> 40);
		}
		if (xorshift(&seed) % 8 == 0)
			n = xorshift(&seed) % len;
		f->err[0] = '\0';
		ret = loader_load_mem("test.elf", t->buf, n, &f->cfg2, &f->img,
				      f->err, sizeof(f->err));
		if (ret == 0) {
			accepted++;
			continue;
		}
		if (ret != -EINVAL)
			fail_msg("iteration %d: ret %d (%s), want 0 or %d", i,
				 ret, f->err, -EINVAL);
		if (strncmp(f->err, "test.elf: ", 10) != 0 ||
		    strlen(f->err) <= 10)
			fail_msg("iteration %d: bad message \"%s\"", i, f->err);
	}
	print_message("    %d of %d mutated images accepted\n", accepted, i);
	free(base);
}

/* ---- loader_load_file ---- */

struct tmpdir {
	char dir[64];
	char path[128];
};

static void tmpdir_make(struct tmpdir *d)
{
	snprintf(d->dir, sizeof(d->dir), "/tmp/kvmdbg-loader-XXXXXX");
	if (!mkdtemp(d->dir))
		fail_msg("mkdtemp: %s", strerror(errno));
	d->path[0] = '\0';
}

static void tmpdir_remove(struct tmpdir *d)
{
	if (d->path[0])
		unlink(d->path);
	rmdir(d->dir);
}

static void write_tmpfile(struct tmpdir *d, const void *data, size_t len)
{
	int fd;

	snprintf(d->path, sizeof(d->path), "%s/guest-XXXXXX", d->dir);
	fd = mkstemp(d->path);
	if (fd < 0)
		fail_msg("mkstemp: %s", strerror(errno));
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void test_file_missing(void **state)
{
	struct fixture *f = *state;
	struct tmpdir d;
	char path[160];
	int ret;

	tmpdir_make(&d);
	snprintf(path, sizeof(path), "%s/missing.elf", d.dir);
	ret = loader_load_file(path, &f->cfg, &f->img, f->err, sizeof(f->err));
	print_message("    -> %s\n", f->err);
	tmpdir_remove(&d);
	assert_int_equal(ret, -ENOENT);
	assert_int_equal(strncmp(f->err, path, strlen(path)), 0);
	assert_has(f->err, "No such file or directory");
}

static void test_file_directory(void **state)
{
	struct fixture *f = *state;
	struct tmpdir d;
	int ret;

	tmpdir_make(&d);
	ret = loader_load_file(d.dir, &f->cfg, &f->img, f->err, sizeof(f->err));
	print_message("    -> %s\n", f->err);
	tmpdir_remove(&d);
	assert_int_equal(ret, -EISDIR);
	assert_int_equal(strncmp(f->err, d.dir, strlen(d.dir)), 0);
	assert_has(f->err, "is a directory");
}

static void test_file_empty(void **state)
{
	struct fixture *f = *state;
	struct tmpdir d;
	int ret;

	tmpdir_make(&d);
	write_tmpfile(&d, "", 0);
	ret =
	    loader_load_file(d.path, &f->cfg, &f->img, f->err, sizeof(f->err));
	print_message("    -> %s\n", f->err);
	assert_int_equal(ret, -EINVAL);
	assert_int_equal(strncmp(f->err, d.path, strlen(d.path)), 0);
	tmpdir_remove(&d);
	assert_has(f->err, "empty file");
}

static void test_file_not_elf(void **state)
{
	struct fixture *f = *state;
	struct tmpdir d;
	int ret;

	tmpdir_make(&d);
	write_tmpfile(&d, "hello, world\n", 13);
	ret =
	    loader_load_file(d.path, &f->cfg, &f->img, f->err, sizeof(f->err));
	assert_int_equal(ret, -EINVAL);
	assert_int_equal(strncmp(f->err, d.path, strlen(d.path)), 0);
	tmpdir_remove(&d);
	assert_has(f->err, ": not an ELF file");
	assert_untouched(f->low, "low");
}

static void test_file_loads(void **state)
{
	struct fixture *f = *state;
	struct telf *t = &f->t;
	struct tmpdir d;
	size_t len;
	int ret;

	telf_pvh_phdr(t, 0x100010, 4);
	telf_load(t, 0x100000, 0x234, 0x1000, PF_R | PF_X);
	len = telf_finish(t);

	tmpdir_make(&d);
	write_tmpfile(&d, t->buf, len);
	ret =
	    loader_load_file(d.path, &f->cfg, &f->img, f->err, sizeof(f->err));
	tmpdir_remove(&d);
	if (ret != 0)
		fail_msg("loader_load_file = %d (%s), want 0", ret, f->err);
	assert_loaded(f->low + 0x100000, 0x100000, 0x234, 0x1000);
	assert_int_equal(f->img.pvh_entry, 0x100010);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_pvh64_loads),
	    T(test_pvh32_loads),
	    T(test_native64_loads),
	    T(test_native64_entry_by_vaddr),
	    T(test_pvh_note_desc8),
	    T(test_pvh_note_in_section),
	    T(test_pvh32_note_in_section),
	    T(test_high_ram_range_loads),
	    T(test_empty_load_skipped),
	    T(test_max_segments_load),
	    T(test_reject_empty),
	    T(test_reject_not_elf),
	    T(test_reject_truncated_header),
	    T(test_reject_truncated_segment),
	    T(test_reject_truncated_phdrs),
	    T(test_reject_truncated_shdrs),
	    T(test_reject_phdrs_beyond_file),
	    T(test_reject_bad_phentsize),
	    T(test_reject_corrupt_note_section),
	    T(test_reject_wrong_machine),
	    T(test_reject_wrong_machine32),
	    T(test_reject_elf32_not_accepted),
	    T(test_reject_elf32_without_note),
	    T(test_reject_big_endian),
	    T(test_reject_bad_class),
	    T(test_reject_et_dyn),
	    T(test_reject_et_rel),
	    T(test_reject_filesz_gt_memsz),
	    T(test_reject_outside_ram),
	    T(test_reject_beyond_ram_end),
	    T(test_reject_in_ram_hole),
	    T(test_reject_past_high_range),
	    T(test_reject_spanning_ranges),
	    T(test_reject_reserved),
	    T(test_reject_overlap),
	    T(test_reject_gpa_overflow),
	    T(test_reject_pvh_entry_outside),
	    T(test_reject_native_entry_outside),
	    T(test_reject_no_load),
	    T(test_reject_only_empty_load),
	    T(test_reject_too_many_segments),
	    T(test_reject_bad_note_descsz),
	    T(test_small_error_buffer),
	    T(test_mutations_are_handled),
	    T(test_file_missing),
	    T(test_file_directory),
	    T(test_file_empty),
	    T(test_file_not_elf),
	    T(test_file_loads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
