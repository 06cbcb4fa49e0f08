/* The Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): marks an image as
 * bootable by a PVH loader and names its 32-bit entry point. Linked into
 * every guest except the native 64-bit hello64. */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

	.section .note.pvh, "a", @note
	.balign 4
	.long 2f - 1f			/* namesz */
	.long 4f - 3f			/* descsz */
	.long XEN_ELFNOTE_PHYS32_ENTRY
1:	.asciz "Xen"
2:	.balign 4
3:	.long _start32
4:	.balign 4
