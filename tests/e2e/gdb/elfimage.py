"""What an ELF64 guest image puts in memory, read from the file without
gdb: the entry point, the PT_LOAD segments (file bytes, then zeros up to
p_memsz) and the symbol table. Lets a test compare what the debugger reads
from the guest with what kvmdbg loaded. Pure Python; the gdb scripts and
the lldb tests share it."""
import struct

PT_LOAD = 1
SHT_SYMTAB = 2


class Image:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        d = self.data
        if d[:4] != b"\x7fELF" or d[4] != 2 or d[5] != 1:
            raise ValueError(f"{path}: not a little-endian ELF64 file")
        (self.entry, phoff, shoff) = struct.unpack_from("<QQQ", d, 0x18)
        phentsize, phnum, shentsize, shnum = struct.unpack_from(
            "<HHHH", d, 0x36)
        self.segments = []  # (vaddr, memsz, bytes of the whole segment)
        for i in range(phnum):
            off = phoff + i * phentsize
            p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz, p_memsz = \
                struct.unpack_from("<IIQQQQQ", d, off)
            if p_type != PT_LOAD or p_memsz == 0:
                continue
            body = d[p_offset:p_offset + p_filesz]
            body += bytes(p_memsz - p_filesz)
            self.segments.append((p_vaddr, p_memsz, body))
        self.symbols = {}
        for i in range(shnum):
            off = shoff + i * shentsize
            _name, sh_type, _fl, _addr, sh_offset, sh_size, sh_link, _info, \
                _align, sh_entsize = struct.unpack_from("<IIQQQQIIQQ", d, off)
            if sh_type != SHT_SYMTAB or not sh_entsize:
                continue
            stroff = struct.unpack_from(
                "<Q", d, shoff + sh_link * shentsize + 0x18)[0]
            for k in range(sh_size // sh_entsize):
                st_name, _info, _other, _shndx, st_value, _size = \
                    struct.unpack_from("<IBBHQQ", d, sh_offset +
                                       k * sh_entsize)
                end = d.index(b"\0", stroff + st_name)
                name = d[stroff + st_name:end].decode()
                if name:
                    self.symbols.setdefault(name, st_value)

    def bytes_at(self, addr, n):
        """n loaded bytes from addr, or None when they are not all inside
        one segment."""
        for vaddr, memsz, body in self.segments:
            if vaddr <= addr and addr + n <= vaddr + memsz:
                return body[addr - vaddr:addr - vaddr + n]
        return None
