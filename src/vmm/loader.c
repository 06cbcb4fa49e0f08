/* ELF guest images: every header, segment and entry point is checked
 * against the file size and the guest's RAM layout before a single byte is
 * copied into guest memory, so a bad image leaves the guest untouched. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gelf.h>
#include <libelf.h>

#include "vmm/loader.h"

/* Guest images are kernels and test programs; anything this large is far
 * more likely to be the wrong file than a guest, and it is read whole. */
#define LOADER_MAX_FILE_SIZE (1ULL << 30)

/* From Xen's public/elfnote.h: the 32-bit physical address at which a PVH
 * guest is entered in protected mode with paging off. */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

#define RANGE_FMT "[0x%" PRIx64 "-0x%" PRIx64 ")"

struct load_ctx {
	const char *name;
	const uint8_t *data;
	size_t size;
	const struct loader_config *cfg;
	char *err;
	size_t errlen;
	Elf *elf;
	GElf_Ehdr ehdr;
	size_t phnum;
	struct loader_image img;
	/* Per accepted segment: where its bytes are in the file, which RAM
	 * range holds it, and its program header index for messages. */
	uint64_t offset[LOADER_MAX_SEGMENTS];
	unsigned ram_idx[LOADER_MAX_SEGMENTS];
	size_t phdr_idx[LOADER_MAX_SEGMENTS];
};

static void vreport(char *err, size_t errlen, const char *name, const char *fmt,
		    va_list ap) __attribute__((format(printf, 4, 0)));

static void vreport(char *err, size_t errlen, const char *name, const char *fmt,
		    va_list ap)
{
	int n;

	if (!err || errlen == 0)
		return;
	n = snprintf(err, errlen, "%s: ", name);
	if (n < 0 || (size_t)n >= errlen)
		return;
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
}

/* Stores "name: message" in err and returns ret, so failures are one line. */
static int report(char *err, size_t errlen, const char *name, int ret,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int report(char *err, size_t errlen, const char *name, int ret,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(err, errlen, name, fmt, ap);
	va_end(ap);
	return ret;
}

/* Every image defect is -EINVAL; this keeps the validators short. */
static int bad(struct load_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int bad(struct load_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ctx->err, ctx->errlen, ctx->name, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const struct {
	uint16_t machine;
	const char *name;
	const char *macro;
} machine_names[] = {
    {EM_386, "i386", "EM_386"},
    {EM_X86_64, "x86-64", "EM_X86_64"},
    {EM_AARCH64, "AArch64", "EM_AARCH64"},
    {EM_ARM, "ARM", "EM_ARM"},
    {EM_PPC, "PowerPC", "EM_PPC"},
    {EM_PPC64, "PowerPC64", "EM_PPC64"},
    {EM_RISCV, "RISC-V", "EM_RISCV"},
    {EM_MIPS, "MIPS", "EM_MIPS"},
    {EM_S390, "S/390", "EM_S390"},
};

/*
 * The image's machine is shown with its number ("AArch64 (183)") because
 * that is what readelf prints; the accepted one with its macro name
 * ("x86-64 (EM_X86_64)") because that is what a linker script says.
 */
static void machine_desc(uint16_t machine, bool macro, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(machine_names) / sizeof(machine_names[0]); i++) {
		if (machine_names[i].machine != machine)
			continue;
		if (macro)
			snprintf(buf, len, "%s (%s)", machine_names[i].name,
				 machine_names[i].macro);
		else
			snprintf(buf, len, "%s (%u)", machine_names[i].name,
				 machine);
		return;
	}
	snprintf(buf, len, "machine %u", machine);
}

static void size_desc(uint64_t size, char *buf, size_t len)
{
	static const struct {
		unsigned shift;
		const char *unit;
	} units[] = {{40, "TiB"}, {30, "GiB"}, {20, "MiB"}, {10, "KiB"}};
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		uint64_t unit = 1ULL << units[i].shift;

		if (size >= unit && size % unit == 0) {
			snprintf(buf, len, "%" PRIu64 " %s",
				 size >> units[i].shift, units[i].unit);
			return;
		}
	}
	snprintf(buf, len, "0x%" PRIx64 " bytes", size);
}

/* The configuration is trusted, but a range reaching the top of the address
 * space must not wrap around to 0 and look empty. */
static uint64_t ram_end(const struct loader_ram *r)
{
	return r->size > UINT64_MAX - r->gpa ? UINT64_MAX : r->gpa + r->size;
}

/* "[0x0-0x400000), 4 MiB; [0x100000000-0x100400000), 4 MiB" */
static void ram_desc(const struct loader_config *cfg, char *buf, size_t len)
{
	size_t used = 0;
	unsigned i;

	buf[0] = '\0';
	if (cfg->nr_ram == 0) {
		snprintf(buf, len, "none is configured");
		return;
	}
	for (i = 0; i < cfg->nr_ram; i++) {
		const struct loader_ram *r = &cfg->ram[i];
		char size[32];
		int n;

		size_desc(r->size, size, sizeof(size));
		n = snprintf(buf + used, len - used, "%s" RANGE_FMT ", %s",
			     i ? "; " : "", r->gpa, ram_end(r), size);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
}

/*
 * Checks done on the raw identification bytes, before libelf sees the
 * image: libelf would happily byte-swap a big-endian file, and it reports a
 * short buffer as a generic error rather than as a truncated header.
 */
static int check_ident(struct load_ctx *ctx)
{
	const uint8_t *id = ctx->data;
	size_t ehsize;

	if (ctx->size == 0)
		return bad(ctx, "empty file");
	if (ctx->size < SELFMAG || memcmp(id, ELFMAG, SELFMAG) != 0)
		return bad(ctx, "not an ELF file");
	if (ctx->size < EI_NIDENT)
		return bad(ctx, "truncated ELF header (%zu bytes)", ctx->size);

	switch (id[EI_CLASS]) {
	case ELFCLASS32:
		ehsize = sizeof(Elf32_Ehdr);
		break;
	case ELFCLASS64:
		ehsize = sizeof(Elf64_Ehdr);
		break;
	default:
		return bad(ctx, "invalid ELF class %u (corrupt header)",
			   id[EI_CLASS]);
	}

	switch (id[EI_DATA]) {
	case ELFDATA2LSB:
		break;
	case ELFDATA2MSB:
		return bad(ctx, "big-endian (ELFDATA2MSB) images are not "
				"supported; kvmdbg loads little-endian guests");
	default:
		return bad(ctx, "invalid ELF data encoding %u (corrupt header)",
			   id[EI_DATA]);
	}

	if (id[EI_VERSION] != EV_CURRENT)
		return bad(ctx, "unsupported ELF version %u", id[EI_VERSION]);
	if (ctx->size < ehsize)
		return bad(ctx, "truncated ELF header (%zu of %zu bytes)",
			   ctx->size, ehsize);
	return 0;
}

static int check_machine(struct load_ctx *ctx)
{
	const struct loader_config *cfg = ctx->cfg;
	uint16_t machine = ctx->ehdr.e_machine;
	char got[48], want64[48], want32[48];

	if (ctx->img.is_64 && machine == cfg->machine64)
		return 0;
	if (!ctx->img.is_64 && cfg->machine32 && machine == cfg->machine32)
		return 0;

	machine_desc(machine, false, got, sizeof(got));
	machine_desc(cfg->machine64, true, want64, sizeof(want64));
	if (ctx->img.is_64 && !cfg->machine32)
		return bad(ctx, "built for %s; this kvmdbg runs %s guests", got,
			   want64);
	if (!cfg->machine32)
		return bad(ctx,
			   "32-bit (ELFCLASS32) images are not supported; "
			   "this kvmdbg runs 64-bit %s guests",
			   want64);
	machine_desc(cfg->machine32, true, want32, sizeof(want32));
	return bad(ctx,
		   "%s image built for %s; this kvmdbg runs %s guests "
		   "and 32-bit %s PVH images",
		   ctx->img.is_64 ? "64-bit" : "32-bit", got, want64, want32);
}

static int check_type(struct load_ctx *ctx)
{
	switch (ctx->ehdr.e_type) {
	case ET_EXEC:
		return 0;
	case ET_DYN:
		/* The guest has no dynamic loader and nothing relocates it,
		 * so a PIE would run at whatever its unrelocated addresses
		 * happen to be. */
		return bad(ctx, "position-independent images are not "
				"supported; link with -no-pie");
	case ET_REL:
		return bad(ctx, "relocatable object file (ET_REL), not an "
				"executable; link it first");
	case ET_CORE:
		return bad(ctx, "core dump (ET_CORE), not an executable");
	default:
		return bad(ctx, "not an executable (e_type %u)",
			   ctx->ehdr.e_type);
	}
}

/*
 * Depending on where the image ends, libelf either fails with a bare
 * "invalid data" or silently clamps a header table that runs past the end
 * to the entries that fit (often none), which would turn a truncated file
 * into "no loadable segment"; check the tables against the size ourselves.
 */
static int check_table(struct load_ctx *ctx, const char *what, uint64_t off,
		       uint64_t count, unsigned entsize, size_t want_entsize)
{
	if (count == 0)
		return 0;
	if (entsize != want_entsize)
		return bad(ctx,
			   "corrupt ELF header: %s entry size is %u, "
			   "expected %zu",
			   what, entsize, want_entsize);
	if (off >= ctx->size)
		return bad(ctx,
			   "%s table offset 0x%" PRIx64 " lies beyond the "
			   "end of the file (0x%zx bytes); the file is "
			   "truncated or corrupt",
			   what, off, ctx->size);
	/* Divide rather than multiply: with extended numbering the count
	 * comes from a 64-bit field and the product could wrap. */
	if (count > (ctx->size - off) / entsize)
		return bad(ctx,
			   "%s table (offset 0x%" PRIx64 ", count %" PRIu64
			   ") extends past the end of the file (0x%zx "
			   "bytes); the file is truncated",
			   what, off, count, ctx->size);
	return 0;
}

static int check_header(struct load_ctx *ctx)
{
	GElf_Ehdr *eh = &ctx->ehdr;
	size_t phent;
	int ret;

	if (!gelf_getehdr(ctx->elf, eh))
		return bad(ctx, "corrupt ELF header: %s", elf_errmsg(-1));
	ctx->img.is_64 = gelf_getclass(ctx->elf) == ELFCLASS64;
	ctx->img.machine = eh->e_machine;
	ctx->img.entry = eh->e_entry;

	ret = check_machine(ctx);
	if (ret)
		return ret;
	ret = check_type(ctx);
	if (ret)
		return ret;

	/* Check the table as the header describes it before asking libelf
	 * for the count. With PN_XNUM the real count sits in section 0 and
	 * is checked once libelf has read it. */
	phent = gelf_fsize(ctx->elf, ELF_T_PHDR, 1, EV_CURRENT);
	if (eh->e_phnum != PN_XNUM) {
		ret = check_table(ctx, "program header", eh->e_phoff,
				  eh->e_phnum, eh->e_phentsize, phent);
		if (ret)
			return ret;
	}
	if (elf_getphdrnum(ctx->elf, &ctx->phnum) != 0)
		return bad(ctx, "corrupt program headers: %s", elf_errmsg(-1));
	/* gelf_getphdr() takes an int index. */
	if (ctx->phnum > INT_MAX)
		return bad(ctx, "corrupt ELF header: %zu program headers",
			   ctx->phnum);
	return check_table(ctx, "program header", eh->e_phoff, ctx->phnum,
			   eh->e_phentsize, phent);
}

/*
 * Section headers are only needed for the note fallback, but a file cut
 * short before them is still a truncated file. This runs after the
 * segments are checked because a truncated file usually loses segment data
 * too, and "segment 2 ... truncated" says more than a section table offset.
 */
static int check_sections(struct load_ctx *ctx)
{
	const GElf_Ehdr *eh = &ctx->ehdr;
	size_t shent = gelf_fsize(ctx->elf, ELF_T_SHDR, 1, EV_CURRENT);
	size_t shnum;
	int ret;

	/* With more than SHN_LORESERVE sections e_shnum is 0 and the real
	 * count sits in section 0, so at least that entry must be present
	 * before libelf reads it. */
	shnum = eh->e_shnum ? eh->e_shnum : (eh->e_shoff ? 1 : 0);
	ret = check_table(ctx, "section header", eh->e_shoff, shnum,
			  eh->e_shentsize, shent);
	if (ret)
		return ret;
	if (elf_getshdrnum(ctx->elf, &shnum) != 0)
		return bad(ctx, "corrupt section headers: %s", elf_errmsg(-1));
	return check_table(ctx, "section header", eh->e_shoff, shnum,
			   eh->e_shentsize, shent);
}

/* Finds the RAM range holding [gpa, end), or explains why there is none. */
static int find_ram(struct load_ctx *ctx, size_t idx, uint64_t gpa,
		    uint64_t end, unsigned *ram_idx)
{
	const struct loader_config *cfg = ctx->cfg;
	uint64_t covered = 0;
	char ram[256];
	unsigned i;

	for (i = 0; i < cfg->nr_ram; i++) {
		const struct loader_ram *r = &cfg->ram[i];
		uint64_t lo, hi;

		if (gpa >= r->gpa && end <= ram_end(r)) {
			*ram_idx = i;
			return 0;
		}
		lo = gpa > r->gpa ? gpa : r->gpa;
		hi = end < ram_end(r) ? end : ram_end(r);
		if (lo < hi)
			covered += hi - lo;
	}

	ram_desc(cfg, ram, sizeof(ram));
	/* Each RAM range is a separate host mapping, so a segment crossing
	 * from one into the next cannot be copied in one piece even when the
	 * ranges are adjacent. */
	if (covered == end - gpa)
		return bad(ctx,
			   "segment %zu " RANGE_FMT " spans two guest RAM "
			   "ranges; it must fit inside one (guest RAM: %s)",
			   idx, gpa, end, ram);
	if (covered)
		return bad(ctx,
			   "segment %zu " RANGE_FMT " extends beyond guest "
			   "RAM (guest RAM: %s)",
			   idx, gpa, end, ram);
	return bad(ctx,
		   "segment %zu " RANGE_FMT " lies outside guest RAM "
		   "(guest RAM: %s)",
		   idx, gpa, end, ram);
}

static int check_load(struct load_ctx *ctx, size_t idx, const GElf_Phdr *ph)
{
	struct loader_image *img = &ctx->img;
	uint64_t gpa = ph->p_paddr, end;
	unsigned ram_idx = 0, i;
	int ret;

	if (ph->p_filesz > ph->p_memsz)
		return bad(ctx,
			   "segment %zu: file size 0x%" PRIx64 " is larger "
			   "than its memory size 0x%" PRIx64,
			   idx, ph->p_filesz, ph->p_memsz);
	/* An empty PT_LOAD occupies no memory; linkers emit them for empty
	 * output sections. */
	if (ph->p_memsz == 0)
		return 0;
	if (ph->p_offset > ctx->size || ph->p_filesz > ctx->size - ph->p_offset)
		return bad(ctx,
			   "segment %zu: 0x%" PRIx64 " bytes at file offset "
			   "0x%" PRIx64 " extend past the end of the file "
			   "(0x%zx bytes); the file is truncated",
			   idx, ph->p_filesz, ph->p_offset, ctx->size);
	if (ph->p_memsz > UINT64_MAX - gpa)
		return bad(ctx,
			   "segment %zu: physical address 0x%" PRIx64
			   " + size 0x%" PRIx64 " wraps around the address "
			   "space",
			   idx, gpa, ph->p_memsz);
	end = gpa + ph->p_memsz;

	if (gpa < ctx->cfg->reserved_end)
		return bad(ctx,
			   "segment %zu " RANGE_FMT " overlaps kvmdbg's "
			   "boot area below 0x%" PRIx64,
			   idx, gpa, end, ctx->cfg->reserved_end);
	ret = find_ram(ctx, idx, gpa, end, &ram_idx);
	if (ret)
		return ret;

	for (i = 0; i < img->nr_segments; i++) {
		uint64_t ogpa = img->segments[i].gpa;
		uint64_t oend = ogpa + img->segments[i].memsz;

		if (gpa < oend && ogpa < end)
			return bad(ctx,
				   "segments %zu " RANGE_FMT
				   " and %zu " RANGE_FMT " overlap",
				   ctx->phdr_idx[i], ogpa, oend, idx, gpa, end);
	}

	if (img->nr_segments == LOADER_MAX_SEGMENTS)
		return bad(ctx, "more than %d loadable segments",
			   LOADER_MAX_SEGMENTS);

	i = img->nr_segments++;
	img->segments[i].gpa = gpa;
	img->segments[i].memsz = ph->p_memsz;
	img->segments[i].filesz = ph->p_filesz;
	img->segments[i].vaddr = ph->p_vaddr;
	img->segments[i].flags = ph->p_flags & (PF_X | PF_W | PF_R);
	ctx->offset[i] = ph->p_offset;
	ctx->ram_idx[i] = ram_idx;
	ctx->phdr_idx[i] = idx;
	if (i == 0 || gpa < img->lowest_gpa)
		img->lowest_gpa = gpa;
	if (end > img->highest_gpa)
		img->highest_gpa = end;
	return 0;
}

static int check_segments(struct load_ctx *ctx)
{
	size_t i;
	int ret;

	for (i = 0; i < ctx->phnum; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(ctx->elf, (int)i, &ph))
			return bad(ctx, "corrupt program header %zu: %s", i,
				   elf_errmsg(-1));
		if (ph.p_type != PT_LOAD)
			continue;
		ret = check_load(ctx, i, &ph);
		if (ret)
			return ret;
	}
	if (ctx->img.nr_segments == 0)
		return bad(ctx, "no loadable (PT_LOAD) segment");
	return 0;
}

/* Looks for XEN_ELFNOTE_PHYS32_ENTRY among the notes in one chunk. */
static int scan_notes(struct load_ctx *ctx, Elf_Data *data, bool *found)
{
	size_t off = 0, next, name_off, desc_off;
	GElf_Nhdr nh;

	if (!data->d_buf)
		return 0;
	while ((next = gelf_getnote(data, off, &nh, &name_off, &desc_off))) {
		const uint8_t *name = (const uint8_t *)data->d_buf + name_off;
		const uint8_t *desc = (const uint8_t *)data->d_buf + desc_off;

		off = next;
		if (nh.n_type != XEN_ELFNOTE_PHYS32_ENTRY || nh.n_namesz != 4 ||
		    memcmp(name, "Xen", 4) != 0)
			continue;
		/* Linux emits a 4-byte descriptor, some other kernels an
		 * 8-byte one; the entry is 32-bit either way. */
		if (nh.n_descsz != 4 && nh.n_descsz != 8)
			return bad(ctx,
				   "PVH entry note has a %u-byte "
				   "descriptor; expected 4 or 8",
				   (unsigned)nh.n_descsz);
		/* Descriptors are not byte-swapped by libelf; the image is
		 * known to be little-endian. */
		ctx->img.pvh_entry =
		    (uint32_t)desc[0] | (uint32_t)desc[1] << 8 |
		    (uint32_t)desc[2] << 16 | (uint32_t)desc[3] << 24;
		ctx->img.has_pvh = true;
		*found = true;
		return 0;
	}
	return 0;
}

/*
 * The note is normally reached through PT_NOTE, which survives stripping of
 * section headers; linker scripts that forget to emit PT_NOTE still leave
 * the SHT_NOTE section, so that is the fallback.
 */
static int find_pvh_note(struct load_ctx *ctx)
{
	Elf_Scn *scn = NULL;
	bool found = false;
	size_t i;
	int ret;

	for (i = 0; i < ctx->phnum; i++) {
		Elf_Data *data;
		GElf_Phdr ph;

		if (!gelf_getphdr(ctx->elf, (int)i, &ph))
			return bad(ctx, "corrupt program header %zu: %s", i,
				   elf_errmsg(-1));
		if (ph.p_type != PT_NOTE || ph.p_filesz == 0)
			continue;
		if (ph.p_offset > ctx->size ||
		    ph.p_filesz > ctx->size - ph.p_offset)
			return bad(ctx,
				   "note segment %zu: 0x%" PRIx64 " bytes "
				   "at file offset 0x%" PRIx64 " extend "
				   "past the end of the file (0x%zx "
				   "bytes); the file is truncated",
				   i, ph.p_filesz, ph.p_offset, ctx->size);
		data = elf_getdata_rawchunk(
		    ctx->elf, (int64_t)ph.p_offset, ph.p_filesz,
		    ph.p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
		if (!data)
			return bad(ctx, "corrupt note segment %zu: %s", i,
				   elf_errmsg(-1));
		ret = scan_notes(ctx, data, &found);
		if (ret || found)
			return ret;
	}

	while ((scn = elf_nextscn(ctx->elf, scn))) {
		Elf_Data *data;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			return bad(ctx, "corrupt section header %zu: %s",
				   elf_ndxscn(scn), elf_errmsg(-1));
		if (sh.sh_type != SHT_NOTE || sh.sh_size == 0)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			return bad(ctx, "corrupt note section %zu: %s",
				   elf_ndxscn(scn), elf_errmsg(-1));
		ret = scan_notes(ctx, data, &found);
		if (ret || found)
			return ret;
	}
	return 0;
}

static int check_entry(struct load_ctx *ctx)
{
	const struct loader_image *img = &ctx->img;
	unsigned i;

	if (img->has_pvh) {
		for (i = 0; i < img->nr_segments; i++) {
			uint64_t gpa = img->segments[i].gpa;

			if (img->pvh_entry >= gpa &&
			    img->pvh_entry - gpa < img->segments[i].memsz)
				return 0;
		}
		return bad(ctx,
			   "PVH entry 0x%" PRIx32 " is outside the loaded "
			   "image (segments within " RANGE_FMT ")",
			   img->pvh_entry, img->lowest_gpa, img->highest_gpa);
	}

	/* A 32-bit image has no other defined way in: kvmdbg starts 32-bit
	 * guests only through the PVH boot protocol. */
	if (!img->is_64)
		return bad(ctx, "32-bit image without a PVH entry note "
				"(XEN_ELFNOTE_PHYS32_ENTRY)");

	/* Native images start in long mode at e_entry, a virtual address. */
	for (i = 0; i < img->nr_segments; i++) {
		uint64_t vaddr = img->segments[i].vaddr;

		if (img->entry >= vaddr &&
		    img->entry - vaddr < img->segments[i].memsz)
			return 0;
	}
	return bad(ctx,
		   "entry point 0x%" PRIx64 " is outside the loaded "
		   "image (no segment's virtual range contains it)",
		   img->entry);
}

static void copy_segments(struct load_ctx *ctx)
{
	const struct loader_image *img = &ctx->img;
	unsigned i;

	for (i = 0; i < img->nr_segments; i++) {
		const struct loader_ram *r = &ctx->cfg->ram[ctx->ram_idx[i]];
		uint8_t *hva = r->hva + (img->segments[i].gpa - r->gpa);
		size_t filesz = img->segments[i].filesz;

		memcpy(hva, ctx->data + ctx->offset[i], filesz);
		memset(hva + filesz, 0, img->segments[i].memsz - filesz);
	}
}

int loader_load_mem(const char *name, const void *data, size_t size,
		    const struct loader_config *cfg, struct loader_image *out,
		    char *err, size_t errlen)
{
	struct load_ctx *ctx;
	int ret;

	if (!name)
		name = "image";
	if (!cfg || !out || (!data && size) || (!cfg->ram && cfg->nr_ram))
		return report(err, errlen, name, -EINVAL,
			      "invalid loader arguments");

	/* The context carries a whole loader_image plus bookkeeping; keep it
	 * off the stack of whoever calls us. */
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return report(err, errlen, name, -ENOMEM, "out of memory");
	ctx->name = name;
	ctx->data = data;
	ctx->size = size;
	ctx->cfg = cfg;
	ctx->err = err;
	ctx->errlen = errlen;

	ret = check_ident(ctx);
	if (ret)
		goto free_ctx;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		ret = report(err, errlen, name, -ENOTSUP,
			     "libelf does not support ELF version %d",
			     EV_CURRENT);
		goto free_ctx;
	}
	/* libelf takes a mutable pointer because it may convert data in
	 * place, which it only does for a foreign byte order; check_ident
	 * has already refused those, so the image is only read. */
	ctx->elf = elf_memory((char *)data, size);
	if (!ctx->elf) {
		ret = bad(ctx, "corrupt ELF file: %s", elf_errmsg(-1));
		goto free_ctx;
	}
	if (elf_kind(ctx->elf) != ELF_K_ELF) {
		ret = bad(ctx, "not an ELF file");
		goto end_elf;
	}

	ret = check_header(ctx);
	if (ret)
		goto end_elf;
	ret = check_segments(ctx);
	if (ret)
		goto end_elf;
	ret = check_sections(ctx);
	if (ret)
		goto end_elf;
	ret = find_pvh_note(ctx);
	if (ret)
		goto end_elf;
	ret = check_entry(ctx);
	if (ret)
		goto end_elf;

	/* Only now, with every check passed, is guest memory written. */
	copy_segments(ctx);
	*out = ctx->img;

end_elf:
	elf_end(ctx->elf);
free_ctx:
	free(ctx);
	return ret;
}

int loader_load_file(const char *path, const struct loader_config *cfg,
		     struct loader_image *out, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf;
	size_t len = 0, want;
	int fd, ret;

	if (!path)
		return report(err, errlen, "(null)", -EINVAL, "no image path");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		return report(err, errlen, path, ret, "cannot open: %s",
			      strerror(-ret));
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		report(err, errlen, path, ret, "cannot stat: %s",
		       strerror(-ret));
		goto close_fd;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = report(err, errlen, path, -EISDIR, "is a directory");
		goto close_fd;
	}
	/* The size must be known up front to cap it and read it whole. */
	if (!S_ISREG(st.st_mode)) {
		ret = report(err, errlen, path, -EINVAL, "not a regular file");
		goto close_fd;
	}
	if (st.st_size == 0) {
		ret = report(err, errlen, path, -EINVAL, "empty file");
		goto close_fd;
	}
	if ((uint64_t)st.st_size > LOADER_MAX_FILE_SIZE) {
		ret = report(err, errlen, path, -EFBIG,
			     "file is too large (%jd bytes; the limit is 1 "
			     "GiB)",
			     (intmax_t)st.st_size);
		goto close_fd;
	}

	/* Read rather than mmap: a file truncated by someone else while we
	 * load it then shows up as a short read, not as SIGBUS. */
	want = (size_t)st.st_size;
	buf = malloc(want);
	if (!buf) {
		ret = report(err, errlen, path, -ENOMEM,
			     "out of memory reading %zu bytes", want);
		goto close_fd;
	}
	while (len < want) {
		ssize_t n = read(fd, buf + len, want - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			report(err, errlen, path, ret, "read failed: %s",
			       strerror(-ret));
			goto free_buf;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}

	ret = loader_load_mem(path, buf, len, cfg, out, err, errlen);

free_buf:
	free(buf);
close_fd:
	close(fd);
	return ret;
}
