"""A minimal GDB remote protocol client for tests that need to say exactly
which packets are sent (no debugger's own step-over or caching)."""
import re
import socket


def checksum(payload):
    return sum(payload) & 0xff


class RspClient:
    def __init__(self, addr, timeout=30):
        if isinstance(addr, str):
            self.sock = socket.socket(socket.AF_UNIX)
        else:
            self.sock = socket.socket()
        self.sock.settimeout(timeout)
        self.sock.connect(addr)
        self.buf = b""
        self.acks = True
        r = self.command(b"QStartNoAckMode")
        if r != b"OK":
            raise RuntimeError(f"QStartNoAckMode: {r!r}")
        self.acks = False

    def send(self, payload):
        if isinstance(payload, str):
            payload = payload.encode()
        self.sock.sendall(b"$%s#%02x" % (payload, checksum(payload)))

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("kvmdbg closed the connection")
        self.buf += data

    def receive(self):
        """The next packet's payload, run-length encoding expanded."""
        while True:
            self.buf = self.buf.lstrip(b"+")
            m = re.match(rb"\$([^#]*)#([0-9a-fA-F]{2})", self.buf, re.S)
            if m:
                self.buf = self.buf[m.end():]
                if self.acks:
                    self.sock.sendall(b"+")
                return self._expand(m.group(1))
            self._fill()

    @staticmethod
    def _expand(p):
        out = bytearray()
        i = 0
        while i < len(p):
            if p[i:i + 1] == b"*" and out:
                out += out[-1:] * (p[i + 1] - 29)
                i += 2
            else:
                out.append(p[i])
                i += 1
        return bytes(out)

    def command(self, payload):
        self.send(payload)
        return self.receive()

    def close(self):
        self.sock.close()


def stop_fields(reply):
    """T05thread:1;10:...;swbreak:; -> ({'thread': '1', ...}, signal)."""
    if not reply.startswith(b"T"):
        raise RuntimeError(f"not a stop reply: {reply!r}")
    sig = int(reply[1:3], 16)
    fields = {}
    for part in reply[3:].decode().split(";"):
        if ":" in part:
            k, v = part.split(":", 1)
            fields[k] = v
    return fields, sig


def le_hex(value, size):
    return value.to_bytes(size, "little").hex()


def from_le_hex(text):
    return int.from_bytes(bytes.fromhex(text), "little")
