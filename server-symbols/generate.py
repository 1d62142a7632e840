#!/usr/bin/env python3
"""Writes server-symbols/postgresql-15.symbols: every symbol PostgreSQL 15's server exports, with
what a replacement must give a module that references it.

Facts come from PostgreSQL itself, never from guesses:
  - names, kinds and sizes: the dynamic symbol table of the installed `postgres` binary
    (`nm -D -S --defined-only`), as a module built with PGXS sees it;
  - alignment: the strictest that the object's size and its address in the binary allow;
  - initial contents of initialized data: the binary's own bytes, with every slot the dynamic
    linker relocates (a pointer) left zero;
  - values of variables behind settings: the boot values of PostgreSQL's settings tables
    (`ConfigureNames*` in src/backend/utils/misc/guc.c of the source package), each evaluated by
    compiling it against the server's headers;
  - the header that declares each name (the subsystem `bgworkerctl check` groups by): the
    installed server headers.

Usage: generate.py [--postgres BIN] [--source TREE] [--out FILE]
  (`make server-symbols` runs it with the installed server and .ci/pg-source.sh's tree)
"""
import argparse
import os
import re
import struct
import subprocess
import sys
import tempfile

# Symbols the linker or libc put in every executable: not PostgreSQL's.
LINKER_SYMBOLS = {"_IO_stdin_used", "__bss_start", "__data_start", "_edata", "_end", "_start",
                  "data_start", "_init", "_fini", "main"}


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def pg_config(flag):
    return run("pg_config", flag).strip()


# ---- the binary ------------------------------------------------------------------------------

def exports(binary):
    """{name: (kind, size, address)} for the binary's own defined dynamic symbols."""
    out = {}
    for line in run("nm", "-D", "-S", "--defined-only", binary).splitlines():
        f = line.split()
        if len(f) == 4:
            addr, size, typ, name = f
        elif len(f) == 3:
            addr, typ, name = f
            size = "0"
        else:
            continue
        if "@" in name or name in LINKER_SYMBOLS:
            continue  # copy-relocated libc data (stdout@GLIBC...) and linker markers
        if typ in "TtWi":
            kind = "function"
        elif typ in "BbDd":
            kind = "data"
        elif typ in "Rr":
            kind = "const"
        else:
            sys.exit(f"generate: {name}: unexpected symbol type {typ}")
        out[name] = (kind, int(size, 16), int(addr, 16))
    return out


class Elf:
    """Just enough of an ELF64 little-endian file: section contents by address, and the
    addresses the dynamic linker writes (relocation targets)."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        d = self.data
        if d[:4] != b"\x7fELF" or d[4] != 2 or d[5] != 1:
            sys.exit(f"generate: {path} is not a 64-bit little-endian ELF file")
        shoff, = struct.unpack_from("<Q", d, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from("<HHH", d, 0x3A)
        raw = [struct.unpack_from("<IIQQQQIIQQ", d, shoff + i * shentsize) for i in range(shnum)]
        names_off = raw[shstrndx][4]

        def name(off):
            end = d.index(b"\0", names_off + off)
            return d[names_off + off:end].decode()

        self.sections = [dict(name=name(s[0]), type=s[1], addr=s[3], offset=s[4], size=s[5],
                              entsize=s[9]) for s in raw]
        self.relocated = set()
        for s in self.sections:
            if s["type"] == 4:  # SHT_RELA
                for i in range(s["size"] // 24):
                    r_offset, = struct.unpack_from("<Q", d, s["offset"] + i * 24)
                    self.relocated.add(r_offset)

    def bytes_at(self, addr, size):
        """The initial bytes of [addr, addr+size), with relocated 8-byte slots zeroed; None for
        memory the file does not initialise (.bss)."""
        for s in self.sections:
            if s["addr"] <= addr < s["addr"] + s["size"] and s["addr"]:
                if s["type"] == 8:  # SHT_NOBITS
                    return None
                start = s["offset"] + addr - s["addr"]
                b = bytearray(self.data[start:start + size])
                for slot in range(addr - addr % 8, addr + size, 8):
                    if slot in self.relocated:
                        for i in range(max(slot, addr), min(slot + 8, addr + size)):
                            b[i - addr] = 0
                return bytes(b)
        return None


def alignment(size, addr):
    """The strictest alignment the object can need: a power of two no larger than its size
    (rounded up) and one its address in PostgreSQL's binary satisfies, at most 64."""
    by_addr = addr & -addr if addr else 64
    by_size = 1
    while by_size < size:
        by_size *= 2
    return max(1, min(by_addr, by_size, 64))


# ---- the headers -----------------------------------------------------------------------------

def declaring_headers(includedir, names):
    """{name: header path} for names declared `extern` in the installed server headers."""
    found = {}
    ident = re.compile(r"[A-Za-z_]\w*")
    for root, _, files in sorted(os.walk(includedir)):
        for fn in sorted(files):
            if not fn.endswith(".h"):
                continue
            path = os.path.join(root, fn)
            rel = os.path.relpath(path, includedir)
            with open(path, errors="replace") as f:
                text = f.read()
            text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
            text = re.sub(r"\\\n", " ", text)
            text = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
            for m in re.finditer(r"\bextern\b([^;{}]*);", text):
                decl = m.group(1)
                # The declared name: an identifier before '(' (function), inside '(*...)'
                # (function pointer), or last before '[', '=' or the end (data).
                cands = []
                for t in ident.finditer(decl):
                    after = decl[t.end():].lstrip()
                    if after.startswith("(") or after.startswith(")") or after.startswith("[") \
                            or after == "" or after.startswith("="):
                        cands.append(t.group())
                for c in cands:
                    if c in names and c not in found:
                        found[c] = rel
                        break
    return found


# ---- settings' boot values -------------------------------------------------------------------

TABLES = [("ConfigureNamesBool", "bool"), ("ConfigureNamesInt", "int"),
          ("ConfigureNamesReal", "real"), ("ConfigureNamesString", "string"),
          ("ConfigureNamesEnum", "enum")]


def split_top(text, sep=","):
    """Splits at `sep` outside (), {}, [] and string literals."""
    parts, depth, cur, i = [], 0, [], 0
    while i < len(text):
        c = text[i]
        if c == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            cur.append(text[i:j + 1])
            i = j + 1
            continue
        if c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
        if c == sep and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def settings(guc_c):
    """[(setting, type, variable, boot expression)] from guc.c's tables, and guc.c's text up to
    the first table (its includes, macros and option lists, which boot values may use)."""
    with open(guc_c) as f:
        text = f.read()
    preamble = text[:text.index("static struct config_bool ConfigureNamesBool")]
    found = []
    for table, typ in TABLES:
        start = text.index("{", text.index(f"static struct config_{typ} {table}"))
        depth, i = 0, start
        while True:
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    break
            elif text[i] == '"':
                i += 1
                while text[i] != '"':
                    i += 2 if text[i] == "\\" else 1
            i += 1
        body = text[start + 1:i]
        body = re.sub(r"/\*.*?\*/", " ", body, flags=re.S)
        body = "\n".join(l for l in body.splitlines() if not l.lstrip().startswith("#"))
        for entry in split_top(body):
            entry = entry.strip()
            if not entry.startswith("{"):
                continue
            fields = split_top(entry[1:entry.rindex("}")])
            gen = split_top(fields[0].strip()[1:-1])
            name = gen[0].strip('"')
            var = fields[1].strip()
            if not var.startswith("&"):
                continue  # the list's terminator
            found.append((name, typ, var[1:].strip(), fields[2].strip()))
    return preamble, found


def boot_values(preamble, entries, includedir):
    """{variable: value text} for each setting, evaluated by the C compiler against the server's
    headers (so macros and enum constants get PostgreSQL's own values)."""
    lines = [preamble, "#include <stdio.h>", "#undef printf", "static void show_string(const char *var, const char *s)",
             "{", '\tif (s == NULL) { printf("%s\\tnull\\n", var); return; }',
             '\tprintf("%s\\tstring:", var);',
             '\tfor (; *s; s++) { if (*s == \'\\\\\' || *s < 32 || *s > 126) printf("\\\\x%02x", (unsigned char) *s); else putchar(*s); }',
             '\tputchar(\'\\n\');', "}", "int main(void)", "{"]
    for _, typ, var, boot in entries:
        if typ == "bool":
            lines.append(f'\tprintf("%s\\tbool:%s\\n", "{var}", ({boot}) ? "true" : "false");')
        elif typ in ("int", "enum"):
            lines.append(f'\tprintf("%s\\tint:%d\\n", "{var}", (int) ({boot}));')
        elif typ == "real":
            lines.append(f'\tprintf("%s\\treal:%.17g\\n", "{var}", (double) ({boot}));')
        else:
            lines.append(f'\tshow_string("{var}", {boot});')
    lines += ["\treturn 0;", "}"]
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "boot.c")
        exe = os.path.join(tmp, "boot")
        with open(src, "w") as f:
            f.write("\n".join(lines) + "\n")
        cc = subprocess.run(["cc", "-w", "-I", includedir, "-o", exe, src, "-lm"],
                            capture_output=True, text=True)
        if cc.returncode != 0:
            sys.exit("generate: could not evaluate the settings' boot values:\n" + cc.stderr[-4000:])
        out = run(exe)
    return dict(line.split("\t", 1) for line in out.splitlines())


# ---- putting it together ---------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--postgres", default=os.path.join(pg_config("--bindir"), "postgres"))
    ap.add_argument("--source", help="PostgreSQL 15 source tree (default: .ci/pg-source.sh)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "postgresql-15.symbols"))
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    source = args.source or run(os.path.join(here, "..", ".ci", "pg-source.sh")).strip()
    includedir = pg_config("--includedir-server")
    version = run(args.postgres, "--version").strip()

    syms = exports(args.postgres)
    elf = Elf(args.postgres)
    headers = declaring_headers(includedir, set(syms))
    preamble, entries = settings(os.path.join(source, "src/backend/utils/misc/guc.c"))
    entries = [e for e in entries if e[2] in syms]
    boots = boot_values(preamble, entries, includedir)
    setting_of = {var: name for name, _, var, _ in entries}

    rows = []
    for name in sorted(syms):
        kind, size, addr = syms[name]
        header = headers.get(name, "-")
        if kind == "function":
            rows.append((name, kind, "-", "-", header, "-"))
            continue
        init = "-"
        if name in boots:
            init = boots[name] + f"\tsetting={setting_of[name]}"
        else:
            b = elf.bytes_at(addr, size)
            if b is not None and any(b):
                init = "hex:" + b.hex()
        rows.append((name, kind, str(size), str(alignment(size, addr)), header, init))

    nfunc = sum(1 for r in rows if r[1] == "function")
    with open(args.out, "w") as f:
        f.write(f"# The symbols PostgreSQL 15's server exports, as {version} has them: generated by\n"
                f"# server-symbols/generate.py (make server-symbols) from the installed binary, its\n"
                f"# headers and the settings tables of {os.path.basename(source)}'s source. Do not edit.\n"
                f"# {len(rows)} symbols: {nfunc} functions, {len(rows) - nfunc} data objects.\n"
                "# name\tkind\tsize\talign\theader\tinitial value\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    print(f"generate: {len(rows)} symbols ({nfunc} functions) written to {args.out}")


if __name__ == "__main__":
    main()
